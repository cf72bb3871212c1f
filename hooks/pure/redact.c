/* redact.c - removing secrets from what a capture records (see redact.h).
 *
 * Decisions:
 * - JSON is redacted in one forward pass over the text (json_walk), not
 *   with json.h's iterators: those skip a nested container once for each
 *   level above it, O(n * depth). json_parse() still decides what is one
 *   JSON value (and enforces JSON_MAX_DEPTH), and member names are decoded
 *   by json_string_decode(). In a valid text the strings followed by ':'
 *   are exactly the member names, at any depth, inside arrays too, so the
 *   pass needs no stack; the same pass, applied leniently, serves bodies
 *   that do not parse (NDJSON, an event stream, a body cut short).
 * - A redacted value is replaced whole, a container included: nothing
 *   inside it is looked at again.
 * - Empty values are kept: the output says the same thing, byte-exact.
 * - The fragment of a URL gets the query rule too (OAuth's implicit flow
 *   answers with "#access_token=..." in a Location; single-page routes
 *   carry "#/callback?token=..."); a fragment without pairs is copied.
 * - An empty input appends nothing (and never does arithmetic on a NULL
 *   pointer). */
#include "redact.h"
#include "redact_int.h"

#include <string.h>

#include "json.h"

/* The built-in lists, ended by an empty name, in enum redact_list order
 * (arrays, not pointers: no relocation at load). */
static const char builtin[REDACT_LISTS][12][24] = {
  { "Authorization", "Proxy-Authorization", "api-key", "x-api-key",
    "x-goog-api-key", "Cookie", "Set-Cookie", "" },
  { "key", "api_key", "api-key", "apikey", "token", "access_token", "sig",
    "signature", "password", "secret", "" },
  { "api_key", "apiKey", "password", "secret", "client_secret",
    "refresh_token", "access_token", "id_token", "token", "" },
};

/* ---- small helpers ------------------------------------------------------ */

static int ascii_lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Do [a, a+an) and [b, b+bn) match, ASCII case-insensitively? */
bool rd_same_name(const char *a, size_t an, const char *b, size_t bn)
{
  if(an != bn)
    return false;
  for(size_t i = 0; i < an; i++)
    if(ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
      return false;
  return true;
}

bool rd_same_cname(const char *p, size_t n, const char *name)
{
  return rd_same_name(p, n, name, strlen(name));
}

bool rd_listed(const struct redact_names *l, const char *p, size_t n)
{
  for(unsigned i = 0; i < l->n; i++)
    if(n && ascii_lower((unsigned char)l->v[i][0]) ==
            ascii_lower((unsigned char)p[0]) && rd_same_cname(p, n, l->v[i]))
      return true;
  return false;
}

/* Is c one of the bytes of set (never NUL, which strchr would find)? */
bool rd_in_set(char c, const char *set)
{
  return memchr(set, c, strlen(set)) != NULL;
}

/* An RFC 9110 token character. */
static bool is_tchar(char c)
{
  unsigned char u = (unsigned char)c;
  return u > 0x20 && u < 0x7f && !rd_in_set(c, "\"(),/:;<=>?@[\\]{}");
}

/* The offset of the first byte of p[from, to) in set, else to. */
static size_t find_any(const char *p, size_t from, size_t to, const char *set)
{
  while(from < to && !rd_in_set(p[from], set))
    from++;
  return from;
}

/* Append "[redacted N]" (N written by hand: no snprintf per secret). */
void rd_put_redacted(struct buf *out, size_t n)
{
  char text[48], *e = text + sizeof(text), *d = e;
  *--d = ']';
  do {
    *--d = (char)('0' + n % 10);
    n /= 10;
  } while(n);
  d -= 10;
  memcpy(d, "[redacted ", 10);
  buf_append(out, d, (size_t)(e - d));
}

/* The result of a writer that began at out->len == start: on OOM nothing
 * of what it appended is left. */
bool rd_finish(struct buf *out, size_t start)
{
  if(!out->oom)
    return true;
  out->len = start;
  return false;
}

/* The writers' common shape when redaction is off. */
bool rd_copy_all(const char *p, size_t n, struct buf *out)
{
  size_t start = out->len;
  buf_append(out, p, n);
  return rd_finish(out, start);
}

/* ---- the lists ------------------------------------------------------------ */

void redact_rules_default(struct redact_rules *r)
{
  memset(r, 0, sizeof(*r));
  for(int k = 0; k < REDACT_LISTS; k++)
    for(size_t i = 0; builtin[k][i][0]; i++)
      redact_rules_edit(r, (enum redact_list)k, builtin[k][i],
                        strlen(builtin[k][i]));
}

bool redact_rules_has(const struct redact_rules *r, enum redact_list which,
                      const char *name, size_t n)
{
  return (unsigned)which < REDACT_LISTS && rd_listed(&r->lists[which], name, n);
}

/* Add a name unless present; false when the list is full. */
static bool names_add(struct redact_names *l, const char *p, size_t n)
{
  if(rd_listed(l, p, n))
    return true;
  if(l->n >= REDACT_NAMES_MAX)
    return false;
  memcpy(l->v[l->n], p, n);
  l->v[l->n][n] = '\0';
  l->n++;
  return true;
}

static void names_remove(struct redact_names *l, const char *p, size_t n)
{
  for(unsigned i = 0; i < l->n; i++) {
    if(rd_same_cname(p, n, l->v[i])) {
      memmove(l->v[i], l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
      l->n--;
      return;  /* names are unique */
    }
  }
}

/* The trimmed item [a, b): its sign and name; false when malformed. */
static bool spec_item(const char *a, const char *b, char *sign,
                      const char **name, size_t *len)
{
  *sign = '+';
  if(*a == '+' || *a == '-') {
    *sign = *a++;
    while(a < b && rd_is_blank(*a))
      a++;
  }
  *name = a;
  *len = (size_t)(b - a);
  if(!*len || *len > REDACT_NAME_MAX)
    return false;
  for(; a < b; a++)
    if((unsigned char)*a < 0x20 || *a == 0x7f)
      return false;
  return true;
}

enum spec_mode { SPEC_CHECK, SPEC_ALL, SPEC_ADDS };

/* Walk the items of spec, applying them as mode says; false when one is
 * malformed or does not fit. */
static bool spec_walk(struct redact_names *l, const char *spec, size_t n,
                      enum spec_mode mode)
{
  bool ok = true;
  for(size_t i = 0; i < n;) {
    size_t j = find_any(spec, i, n, ",");
    const char *a = spec + i, *b = spec + j, *name;
    size_t len;
    char sign;
    i = j + 1;
    while(a < b && rd_is_blank(*a))
      a++;
    while(b > a && rd_is_blank(b[-1]))
      b--;
    if(a == b)
      continue;  /* an empty item */
    if(!spec_item(a, b, &sign, &name, &len))
      ok = false;
    else if(mode != SPEC_CHECK && sign == '+')
      ok = names_add(l, name, len) && ok;
    else if(mode == SPEC_ALL)
      names_remove(l, name, len);
  }
  return ok;
}

bool redact_rules_edit(struct redact_rules *r, enum redact_list which,
                       const char *spec, size_t n)
{
  if((unsigned)which >= REDACT_LISTS || (!spec && n))
    return false;
  struct redact_names *l = &r->lists[which];
  bool well_formed = spec_walk(l, spec, n, SPEC_CHECK);
  bool fitted = spec_walk(l, spec, n, well_formed ? SPEC_ALL : SPEC_ADDS);
  return well_formed && fitted;
}

/* ---- key=value pairs: query strings, fragments, forms --------------------- */

/* Percent-decode the key [p, p+n) ('+' is a space) into name; false when
 * it is longer than any listed name can be. */
static bool pair_key(const char *p, size_t n, char *name, size_t *len)
{
  size_t o = 0;
  for(size_t i = 0; i < n; i++) {
    char c = p[i];
    int hi, lo;
    if(c == '+')
      c = ' ';
    else if(c == '%' && n - i >= 3 && (hi = json_hex_digit(p[i + 1])) >= 0 &&
            (lo = json_hex_digit(p[i + 2])) >= 0) {
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if(o == REDACT_NAME_MAX)
      return false;
    name[o++] = c;
  }
  *len = o;
  return true;
}

/* One item "key=value" (or "key"): the value redacted when key is listed.
 * In a fragment (route) the key is what follows the last '?' before the
 * '=': "#/callback?token=..." is a route with a query of its own. */
static void put_pair(const struct redact_names *l, const char *p, size_t n,
                     bool route, struct buf *out)
{
  const char *eq = n ? memchr(p, '=', n) : NULL;
  char name[REDACT_NAME_MAX];
  size_t len, klen = eq ? (size_t)(eq - p) : n, k0 = 0;
  for(size_t i = 0; route && i < klen; i++)
    if(p[i] == '?')
      k0 = i + 1;
  if(eq && klen + 1 < n && pair_key(p + k0, klen - k0, name, &len) &&
     rd_listed(l, name, len)) {
    buf_append(out, p, klen + 1);
    rd_put_redacted(out, n - klen - 1);
  }
  else
    buf_append(out, p, n);
}

/* '&'-separated items, each through put_pair. */
void rd_put_pairs(const struct redact_names *l, const char *p, size_t n,
                      bool route, struct buf *out)
{
  size_t i = 0;
  for(;;) {
    size_t j = find_any(p, i, n, "&");
    put_pair(l, p + i, j - i, route, out);
    if(j >= n)
      break;
    buf_append(out, "&", 1);
    i = j + 1;
  }
}

bool redact_form(const struct redact_rules *r, const char *body, size_t n,
                 struct buf *out)
{
  size_t start = out->len;
  if(r->off)
    return rd_copy_all(body, n, out);
  if(!n)
    return !out->oom;
  rd_put_pairs(&r->lists[REDACT_FIELDS], body, n, false, out);
  return rd_finish(out, start);
}

/* ---- URLs ------------------------------------------------------------------ */

static bool is_alpha(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Where the authority of u[0, n) starts: after "scheme://" or "//"; none
 * (n) for a reference starting with '/', '?' or '#'; else at 0, since
 * libcurl takes "user:pw@host/x" (no scheme) as a host with userinfo. */
static size_t url_authority(const char *u, size_t n)
{
  size_t i = 0;
  if(n && is_alpha(u[0])) {
    while(i < n && (is_alpha(u[i]) || (u[i] >= '0' && u[i] <= '9') ||
                    u[i] == '+' || u[i] == '-' || u[i] == '.'))
      i++;
    if(n - i >= 3 && !memcmp(u + i, "://", 3))
      return i + 3;
  }
  if(n >= 2 && u[0] == '/' && u[1] == '/')
    return 2;
  if(!n || u[0] == '/' || u[0] == '?' || u[0] == '#')
    return n;
  return 0;
}

static void put_url(const struct redact_rules *r, const char *u, size_t n,
                    struct buf *out)
{
  const struct redact_names *keys = &r->lists[REDACT_QUERY];
  size_t a = url_authority(u, n), from = 0, path = 0;
  if(a < n) {
    path = find_any(u, a, n, "/?#");
    for(size_t at = path; at > a; at--) {
      if(u[at - 1] == '@') {  /* the last '@': userinfo may hold more */
        buf_append(out, u, a);
        buf_puts(out, "[redacted]@");
        from = at;
        break;
      }
    }
  }
  size_t hash = find_any(u, path, n, "#");
  size_t q = find_any(u, path, hash, "?");
  buf_append(out, u + from, q - from);
  if(q < hash) {
    buf_append(out, "?", 1);
    rd_put_pairs(keys, u + q + 1, hash - q - 1, false, out);
  }
  if(hash < n) {
    buf_append(out, "#", 1);
    rd_put_pairs(keys, u + hash + 1, n - hash - 1, true, out);
  }
}

bool redact_url(const struct redact_rules *r, const char *url, size_t n,
                struct buf *out)
{
  size_t start = out->len;
  if(r->off)
    return rd_copy_all(url, n, out);
  if(!n)
    return !out->oom;
  put_url(r, url, n, out);
  return rd_finish(out, start);
}

/* ---- headers --------------------------------------------------------------- */

static bool is_auth_header(const char *name, size_t n)
{
  return rd_same_cname(name, n, "Authorization") ||
         rd_same_cname(name, n, "Proxy-Authorization");
}

static bool is_url_header(const char *name, size_t n)
{
  return rd_same_cname(name, n, "Location") ||
         rd_same_cname(name, n, "Content-Location") ||
         rd_same_cname(name, n, "Referer");
}

/* The schemes whose word is kept: IANA's HTTP Authentication Scheme
 * Registry and common others. Any other first word may be a bare token
 * followed by more, so it is not kept. */
static const char auth_schemes[][20] = {
  "Basic", "Bearer", "Concealed", "Digest", "DPoP", "GNAP", "HOBA",
  "Mutual", "Negotiate", "NTLM", "OAuth", "PrivateToken", "SCRAM-SHA-1",
  "SCRAM-SHA-256", "vapid", "AWS4-HMAC-SHA256", "Token", "ApiKey", "Key",
  "Hawk", "MAC", "Signature", "SSWS", "SharedKey", "SharedKeyLite",
  "GoogleLogin", "Splunk", ""
};

/* Of a credentials value p[0, n) (trimmed), the bytes that stay: a known
 * scheme word and the blanks after it, when more follows. */
static size_t auth_keep(const char *p, size_t n)
{
  size_t i = 0;
  size_t k = 0;
  while(i < n && !rd_is_blank(p[i]))
    i++;
  while(auth_schemes[k][0] && !rd_same_cname(p, i, auth_schemes[k]))
    k++;
  if(!auth_schemes[k][0])
    return 0;
  while(i < n && rd_is_blank(p[i]))
    i++;
  return i < n ? i : 0;
}

static void put_header_value(const struct redact_rules *r, const char *name,
                             size_t nlen, const char *v, size_t n,
                             struct buf *out)
{
  size_t a = 0, b = n;
  while(a < b && rd_is_space(v[a]))
    a++;
  while(b > a && rd_is_space(v[b - 1]))
    b--;
  buf_append(out, v, a);
  if(b > a && redact_rules_has(r, REDACT_HEADERS, name, nlen)) {
    size_t keep = is_auth_header(name, nlen) ? auth_keep(v + a, b - a) : 0;
    buf_append(out, v + a, keep);
    rd_put_redacted(out, b - a - keep);
  }
  else if(b > a && is_url_header(name, nlen))
    put_url(r, v + a, b - a, out);
  else
    buf_append(out, v + a, b - a);
  buf_append(out, v + b, n - b);
}

bool redact_header_value(const struct redact_rules *r, const char *name,
                         size_t name_len, const char *value, size_t n,
                         struct buf *out)
{
  size_t start = out->len;
  if(r->off)
    return rd_copy_all(value, n, out);
  if(!n)
    return !out->oom;
  put_header_value(r, name, name_len, value, n, out);
  return rd_finish(out, start);
}

/* Is p[0, e) a request line "METHOD target HTTP/x"? The target's bounds. */
static bool request_line(const char *p, size_t e, size_t *ta, size_t *tb)
{
  size_t i = 0, j = e;
  while(i < e && is_tchar(p[i]))
    i++;
  if(!i || i == e || p[i] != ' ')
    return false;
  while(j > i && p[j - 1] != ' ')
    j--;
  if(j - 1 <= i || e - j < 5 || memcmp(p + j, "HTTP/", 5))
    return false;
  *ta = i + 1;
  *tb = j - 1;
  return true;
}

/* Is p[0, colon) a field name (a token, blanks after it allowed)? Its
 * length without the blanks. */
static size_t field_name(const char *p, size_t colon)
{
  size_t n = colon;
  while(n && rd_is_blank(p[n - 1]))
    n--;
  for(size_t i = 0; i < n; i++)
    if(!is_tchar(p[i]))
      return 0;
  return n;
}

bool redact_header_line(const struct redact_rules *r, const char *line,
                        size_t n, struct buf *out)
{
  size_t start = out->len, e = n, ta, tb, name;
  if(r->off)
    return rd_copy_all(line, n, out);
  if(!n)
    return !out->oom;
  while(e && (line[e - 1] == '\n' || line[e - 1] == '\r'))
    e--;
  const char *colon = memchr(line, ':', e);
  if(request_line(line, e, &ta, &tb)) {
    buf_append(out, line, ta);
    put_url(r, line + ta, tb - ta, out);
    buf_append(out, line + tb, n - tb);
  }
  else if(colon && (name = field_name(line, (size_t)(colon - line)))) {
    size_t v = (size_t)(colon - line) + 1;
    buf_append(out, line, v);
    put_header_value(r, line, name, line + v, e - v, out);
    buf_append(out, line + e, n - e);
  }
  else
    buf_append(out, line, n);
  return rd_finish(out, start);
}

