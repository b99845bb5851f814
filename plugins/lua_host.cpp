// The Lua plugin host lands here (issue 4).
