#include "plugins/lua_patterns.hpp"

#include <lauxlib.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "plugins/lua_sandbox.hpp"

// Adapted from Lua 5.4.4's lstrlib.c (Copyright (C) 1994-2022 Lua.org, PUC-Rio, MIT licence): the
// same matcher, with every step counted and charged to the script's budget.

namespace verdict::plugins {

namespace {

constexpr int kMaxDepth = 200;               // recursion of match(), as MAXCCALLS
constexpr int kMaxCaptures = 32;             // as LUA_MAXCAPTURES
constexpr std::ptrdiff_t kUnfinished = -1;   // CAP_UNFINISHED
constexpr std::ptrdiff_t kPosition = -2;     // CAP_POSITION
constexpr std::int64_t kChargeEvery = 1024;  // steps between budget checks
constexpr std::size_t kBytesPerStep = 64;    // memchr/memcmp scan this much per step
constexpr char kEscape = '%';
constexpr const char* kSpecials = "^$*+?.([%-";

unsigned char uchar(char c) {
  return static_cast<unsigned char>(c);
}

struct MatchState {
  const char* src_init;
  const char* src_end;
  const char* p_end;
  lua_State* L;
  int matchdepth;
  int level;
  std::int64_t steps;
  struct {
    const char* init;
    std::ptrdiff_t len;
  } capture[kMaxCaptures];
};

void charge(MatchState* ms) {
  std::int64_t steps = ms->steps;
  ms->steps = 0;
  LuaSandbox::from(ms->L).charge(ms->L, steps);
}

void step(MatchState* ms, std::int64_t n = 1) {
  ms->steps += n;
  if (ms->steps >= kChargeEvery) charge(ms);
}

const char* match(MatchState* ms, const char* s, const char* p);

int check_capture(MatchState* ms, int l) {
  l -= '1';
  if (l < 0 || l >= ms->level || ms->capture[l].len == kUnfinished)
    return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
  return l;
}

int capture_to_close(MatchState* ms) {
  int level = ms->level;
  for (level--; level >= 0; level--)
    if (ms->capture[level].len == kUnfinished) return level;
  return luaL_error(ms->L, "invalid pattern capture");
}

const char* classend(MatchState* ms, const char* p) {
  switch (*p++) {
    case kEscape:
      if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
      return p + 1;
    case '[':
      if (*p == '^') p++;
      do {
        if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (missing ']')");
        if (*(p++) == kEscape && p < ms->p_end) p++;
      } while (*p != ']');
      return p + 1;
    default:
      return p;
  }
}

bool match_class(int c, int cl) {
  int res;
  switch (std::tolower(cl)) {
    case 'a':
      res = std::isalpha(c);
      break;
    case 'c':
      res = std::iscntrl(c);
      break;
    case 'd':
      res = std::isdigit(c);
      break;
    case 'g':
      res = std::isgraph(c);
      break;
    case 'l':
      res = std::islower(c);
      break;
    case 'p':
      res = std::ispunct(c);
      break;
    case 's':
      res = std::isspace(c);
      break;
    case 'u':
      res = std::isupper(c);
      break;
    case 'w':
      res = std::isalnum(c);
      break;
    case 'x':
      res = std::isxdigit(c);
      break;
    case 'z':
      res = (c == 0);
      break;
    default:
      return cl == c;
  }
  return std::islower(cl) ? res != 0 : res == 0;
}

bool matchbracketclass(int c, const char* p, const char* ec) {
  bool sig = true;
  if (*(p + 1) == '^') {
    sig = false;
    p++;
  }
  while (++p < ec) {
    if (*p == kEscape) {
      p++;
      if (match_class(c, uchar(*p))) return sig;
    } else if (*(p + 1) == '-' && p + 2 < ec) {
      p += 2;
      if (uchar(*(p - 2)) <= c && c <= uchar(*p)) return sig;
    } else if (uchar(*p) == c) {
      return sig;
    }
  }
  return !sig;
}

bool singlematch(MatchState* ms, const char* s, const char* p, const char* ep) {
  if (s >= ms->src_end) return false;
  int c = uchar(*s);
  switch (*p) {
    case '.':
      return true;
    case kEscape:
      return match_class(c, uchar(*(p + 1)));
    case '[':
      return matchbracketclass(c, p, ep - 1);
    default:
      return uchar(*p) == c;
  }
}

const char* matchbalance(MatchState* ms, const char* s, const char* p) {
  if (p >= ms->p_end - 1) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
  if (s >= ms->src_end || *s != *p) return nullptr;
  char b = *p;
  char e = *(p + 1);
  int cont = 1;
  while (++s < ms->src_end) {
    step(ms);
    if (*s == e) {
      if (--cont == 0) return s + 1;
    } else if (*s == b) {
      cont++;
    }
  }
  return nullptr;
}

const char* max_expand(MatchState* ms, const char* s, const char* p, const char* ep) {
  std::ptrdiff_t i = 0;
  while (singlematch(ms, s + i, p, ep)) {
    step(ms);
    i++;
  }
  while (i >= 0) {
    const char* res = match(ms, s + i, ep + 1);
    if (res) return res;
    i--;
  }
  return nullptr;
}

const char* min_expand(MatchState* ms, const char* s, const char* p, const char* ep) {
  for (;;) {
    const char* res = match(ms, s, ep + 1);
    if (res != nullptr) return res;
    if (!singlematch(ms, s, p, ep)) return nullptr;
    s++;
  }
}

const char* start_capture(MatchState* ms, const char* s, const char* p, std::ptrdiff_t what) {
  int level = ms->level;
  if (level >= kMaxCaptures) luaL_error(ms->L, "too many captures");
  ms->capture[level].init = s;
  ms->capture[level].len = what;
  ms->level = level + 1;
  const char* res = match(ms, s, p);
  if (res == nullptr) ms->level--;
  return res;
}

const char* end_capture(MatchState* ms, const char* s, const char* p) {
  int l = capture_to_close(ms);
  ms->capture[l].len = s - ms->capture[l].init;
  const char* res = match(ms, s, p);
  if (res == nullptr) ms->capture[l].len = kUnfinished;
  return res;
}

const char* match_capture(MatchState* ms, const char* s, int l) {
  l = check_capture(ms, l);
  // A position capture has a negative length, which makes this huge: it never matches.
  auto len = static_cast<std::size_t>(ms->capture[l].len);
  if (static_cast<std::size_t>(ms->src_end - s) < len) return nullptr;
  step(ms, static_cast<std::int64_t>(len / kBytesPerStep));
  return std::memcmp(ms->capture[l].init, s, len) == 0 ? s + len : nullptr;
}

const char* match(MatchState* ms, const char* s, const char* p) {
  if (ms->matchdepth-- == 0) luaL_error(ms->L, "pattern too complex");
  step(ms);
init:
  if (p != ms->p_end) {
    switch (*p) {
      case '(':
        if (*(p + 1) == ')')
          s = start_capture(ms, s, p + 2, kPosition);
        else
          s = start_capture(ms, s, p + 1, kUnfinished);
        break;
      case ')':
        s = end_capture(ms, s, p + 1);
        break;
      case '$':
        if (p + 1 != ms->p_end) goto dflt;
        s = (s == ms->src_end) ? s : nullptr;
        break;
      case kEscape:
        switch (*(p + 1)) {
          case 'b':
            s = matchbalance(ms, s, p + 2);
            if (s != nullptr) {
              p += 4;
              goto init;
            }
            break;
          case 'f': {
            p += 2;
            if (*p != '[') luaL_error(ms->L, "missing '[' after '%%f' in pattern");
            const char* ep = classend(ms, p);
            char previous = (s == ms->src_init) ? '\0' : *(s - 1);
            if (!matchbracketclass(uchar(previous), p, ep - 1) &&
                matchbracketclass(uchar(*s), p, ep - 1)) {
              p = ep;
              goto init;
            }
            s = nullptr;
            break;
          }
          case '0':
          case '1':
          case '2':
          case '3':
          case '4':
          case '5':
          case '6':
          case '7':
          case '8':
          case '9':
            s = match_capture(ms, s, uchar(*(p + 1)));
            if (s != nullptr) {
              p += 2;
              goto init;
            }
            break;
          default:
            goto dflt;
        }
        break;
      default:
      dflt : {
        const char* ep = classend(ms, p);
        if (!singlematch(ms, s, p, ep)) {
          if (*ep == '*' || *ep == '?' || *ep == '-') {
            p = ep + 1;
            goto init;
          }
          s = nullptr;
        } else {
          switch (*ep) {
            case '?': {
              const char* res = match(ms, s + 1, ep + 1);
              if (res != nullptr) {
                s = res;
              } else {
                p = ep + 1;
                goto init;
              }
              break;
            }
            case '+':
              s++;
              s = max_expand(ms, s, p, ep);
              break;
            case '*':
              s = max_expand(ms, s, p, ep);
              break;
            case '-':
              s = min_expand(ms, s, p, ep);
              break;
            default:
              s++;
              p = ep;
              step(ms);
              goto init;
          }
        }
        break;
      }
    }
  }
  ms->matchdepth++;
  return s;
}

// A plain search: memchr for the first byte, memcmp for the rest, charged by bytes scanned.
const char* lmemfind(MatchState* ms, const char* s1, std::size_t l1, const char* s2,
                     std::size_t l2) {
  if (l2 == 0) return s1;
  if (l2 > l1) return nullptr;
  l2--;
  l1 = l1 - l2;
  const char* init;
  while (l1 > 0 && (init = static_cast<const char*>(std::memchr(s1, *s2, l1))) != nullptr) {
    step(ms, static_cast<std::int64_t>((static_cast<std::size_t>(init - s1) + l2) / kBytesPerStep));
    init++;
    if (std::memcmp(init, s2 + 1, l2) == 0) return init - 1;
    l1 -= static_cast<std::size_t>(init - s1);
    s1 = init;
  }
  return nullptr;
}

std::ptrdiff_t get_onecapture(MatchState* ms, int i, const char* s, const char* e,
                              const char** cap) {
  if (i >= ms->level) {
    if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
    *cap = s;
    return e - s;
  }
  std::ptrdiff_t capl = ms->capture[i].len;
  *cap = ms->capture[i].init;
  if (capl == kUnfinished)
    luaL_error(ms->L, "unfinished capture");
  else if (capl == kPosition)
    lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
  return capl;
}

void push_onecapture(MatchState* ms, int i, const char* s, const char* e) {
  const char* cap;
  std::ptrdiff_t l = get_onecapture(ms, i, s, e, &cap);
  if (l != kPosition) lua_pushlstring(ms->L, cap, static_cast<std::size_t>(l));
}

int push_captures(MatchState* ms, const char* s, const char* e) {
  int nlevels = (ms->level == 0 && s) ? 1 : ms->level;
  luaL_checkstack(ms->L, nlevels, "too many captures");
  for (int i = 0; i < nlevels; i++) push_onecapture(ms, i, s, e);
  return nlevels;
}

bool nospecials(const char* p, std::size_t l) {
  std::size_t upto = 0;
  do {
    if (std::strpbrk(p + upto, kSpecials)) return false;
    upto += std::strlen(p + upto) + 1;
  } while (upto <= l);
  return true;
}

void prepstate(MatchState* ms, lua_State* L, const char* s, std::size_t ls, const char* p,
               std::size_t lp) {
  ms->L = L;
  ms->matchdepth = kMaxDepth;
  ms->src_init = s;
  ms->src_end = s + ls;
  ms->p_end = p + lp;
  ms->steps = 0;
}

void reprepstate(MatchState* ms) {
  ms->level = 0;
}

std::size_t posrelat(lua_Integer pos, std::size_t len) {
  if (pos > 0) return static_cast<std::size_t>(pos);
  if (pos == 0) return 1;
  if (pos < -static_cast<lua_Integer>(len)) return 1;
  return len + static_cast<std::size_t>(pos) + 1;
}

int find_aux(lua_State* L, bool find) {
  std::size_t ls, lp;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  std::size_t init = posrelat(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    luaL_pushfail(L);
    return 1;
  }
  MatchState ms;
  prepstate(&ms, L, s, ls, p, lp);
  if (find && (lua_toboolean(L, 4) || nospecials(p, lp))) {
    const char* s2 = lmemfind(&ms, s + init, ls - init, p, lp);
    charge(&ms);
    if (s2) {
      lua_pushinteger(L, (s2 - s) + 1);
      lua_pushinteger(L, static_cast<lua_Integer>(s2 - s) + static_cast<lua_Integer>(lp));
      return 2;
    }
  } else {
    const char* s1 = s + init;
    bool anchor = (*p == '^');
    if (anchor) {
      p++;
      lp--;
      ms.p_end = p + lp;
    }
    do {
      reprepstate(&ms);
      const char* res = match(&ms, s1, p);
      if (res != nullptr) {
        charge(&ms);
        if (find) {
          lua_pushinteger(L, (s1 - s) + 1);
          lua_pushinteger(L, res - s);
          return push_captures(&ms, nullptr, nullptr) + 2;
        }
        return push_captures(&ms, s1, res);
      }
    } while (s1++ < ms.src_end && !anchor);
    charge(&ms);
  }
  luaL_pushfail(L);
  return 1;
}

int str_find(lua_State* L) {
  return find_aux(L, true);
}

int str_match(lua_State* L) {
  return find_aux(L, false);
}

struct GMatchState {
  const char* src;
  const char* p;
  const char* lastmatch;
  MatchState ms;
};

int gmatch_aux(lua_State* L) {
  auto* gm = static_cast<GMatchState*>(lua_touserdata(L, lua_upvalueindex(3)));
  gm->ms.L = L;
  for (const char* src = gm->src; src <= gm->ms.src_end; src++) {
    reprepstate(&gm->ms);
    const char* e = match(&gm->ms, src, gm->p);
    if (e != nullptr && e != gm->lastmatch) {
      gm->src = gm->lastmatch = e;
      charge(&gm->ms);
      return push_captures(&gm->ms, src, e);
    }
  }
  charge(&gm->ms);
  return 0;
}

int gmatch(lua_State* L) {
  std::size_t ls, lp;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  std::size_t init = posrelat(luaL_optinteger(L, 3, 1), ls) - 1;
  lua_settop(L, 2);
  auto* gm = static_cast<GMatchState*>(lua_newuserdatauv(L, sizeof(GMatchState), 0));
  if (init > ls) init = ls + 1;
  prepstate(&gm->ms, L, s, ls, p, lp);
  gm->src = s + init;
  gm->p = p;
  gm->lastmatch = nullptr;
  lua_pushcclosure(L, gmatch_aux, 3);
  return 1;
}

void add_s(MatchState* ms, luaL_Buffer* b, const char* s, const char* e) {
  std::size_t l;
  lua_State* L = ms->L;
  const char* news = lua_tolstring(L, 3, &l);
  const char* p;
  while ((p = static_cast<const char*>(std::memchr(news, kEscape, l))) != nullptr) {
    luaL_addlstring(b, news, static_cast<std::size_t>(p - news));
    p++;
    if (*p == kEscape) {
      luaL_addchar(b, *p);
    } else if (*p == '0') {
      luaL_addlstring(b, s, static_cast<std::size_t>(e - s));
    } else if (std::isdigit(uchar(*p))) {
      const char* cap;
      std::ptrdiff_t resl = get_onecapture(ms, *p - '1', s, e, &cap);
      if (resl == kPosition)
        luaL_addvalue(b);
      else
        luaL_addlstring(b, cap, static_cast<std::size_t>(resl));
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", kEscape);
    }
    l -= static_cast<std::size_t>(p + 1 - news);
    news = p + 1;
  }
  luaL_addlstring(b, news, l);
}

bool add_value(MatchState* ms, luaL_Buffer* b, const char* s, const char* e, int tr) {
  lua_State* L = ms->L;
  switch (tr) {
    case LUA_TFUNCTION: {
      lua_pushvalue(L, 3);
      int n = push_captures(ms, s, e);
      lua_call(L, n, 1);
      break;
    }
    case LUA_TTABLE:
      push_onecapture(ms, 0, s, e);
      lua_gettable(L, 3);
      break;
    default:
      add_s(ms, b, s, e);
      return true;
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(b, s, static_cast<std::size_t>(e - s));
    return false;
  }
  if (!lua_isstring(L, -1))
    return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return true;
}

int str_gsub(lua_State* L) {
  std::size_t srcl, lp;
  const char* src = luaL_checklstring(L, 1, &srcl);
  const char* p = luaL_checklstring(L, 2, &lp);
  const char* lastmatch = nullptr;
  int tr = lua_type(L, 3);
  lua_Integer max_s = luaL_optinteger(L, 4, static_cast<lua_Integer>(srcl) + 1);
  bool anchor = (*p == '^');
  lua_Integer n = 0;
  bool changed = false;
  MatchState ms;
  luaL_Buffer b;
  luaL_argexpected(
      L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
      "string/function/table");
  luaL_buffinit(L, &b);
  if (anchor) {
    p++;
    lp--;
  }
  prepstate(&ms, L, src, srcl, p, lp);
  while (n < max_s) {
    reprepstate(&ms);
    const char* e = match(&ms, src, p);
    if (e != nullptr && e != lastmatch) {
      n++;
      changed = add_value(&ms, &b, src, e, tr) || changed;
      src = lastmatch = e;
    } else if (src < ms.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  charge(&ms);
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, src, static_cast<std::size_t>(ms.src_end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

}  // namespace

void open_bounded_patterns(lua_State* L) {
  for (auto [name, function] : {std::pair{"find", &str_find},
                                {"match", &str_match},
                                {"gmatch", &gmatch},
                                {"gsub", &str_gsub}}) {
    lua_pushcfunction(L, function);
    lua_setfield(L, -2, name);
  }
}

}  // namespace verdict::plugins
