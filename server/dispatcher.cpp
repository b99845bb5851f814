// The MCP server lands here (issue 3).
