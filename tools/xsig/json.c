/* The little JSON the CLI writes (list --json, inspect --json). */
#include "cli.h"
#include <stdio.h>

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when it is not one. */
static int utf8_len(const unsigned char *s) {
  unsigned char c = s[0];
  int n;
  unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
  else
    return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (int i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xbf) return 0;
  return n;
}

/* A string from the system (a process name) need not be UTF-8, and JSON must
 * be: a byte that does not start a well-formed sequence becomes U+FFFD. */
void cli_json_str(const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  putchar('"');
  while (s && *s) {
    unsigned char c = *s;
    int n;
    if (c == '"' || c == '\\') {
      printf("\\%c", c);
      s++;
    } else if (c < 0x20) {
      printf("\\u%04x", c);
      s++;
    } else if (c < 0x80) {
      putchar(c);
      s++;
    } else if ((n = utf8_len(s)) > 0) {
      fwrite(s, 1, (size_t)n, stdout);
      s += n;
    } else {
      fputs("\\ufffd", stdout);
      s++;
    }
  }
  putchar('"');
}
