/* The wire format of xsig's Windows mailbox (src/win32/mailbox.c): one fixed
 * 16-byte message each way, little-endian, the same on every platform, so the
 * parser is portable and fuzzed natively (tests/fuzz/fuzz_mailbox.c).
 *
 *   offset  size  field
 *   0       4     magic "XSMB"
 *   4       1     version (1)
 *   5       1     type: SIGNAL, QUERY (sender to mailbox) or REPLY (back)
 *   6       2     int16 value: SIGNAL the signal number, REPLY 0 or a negative
 *                 XSIG_E* code, QUERY 0
 *   8       4     uint32 mask: REPLY the signals the mailbox takes now (bit n
 *                 for signal n), otherwise 0
 *   12      4     reserved, 0
 *
 * Signal numbers on the wire are Windows' (the Linux numbers for the POSIX
 * names xsig.h adds, SIGBREAK 21), whatever platform parses them. */
#ifndef XSIG_MAILBOX_MSG_H
#define XSIG_MAILBOX_MSG_H
#include <stddef.h>
#include <stdint.h>

#define XSIG__MBOX_SIZE    16
#define XSIG__MBOX_VERSION 1

enum { XSIG__MBOX_SIGNAL = 1, XSIG__MBOX_QUERY = 2, XSIG__MBOX_REPLY = 3 };

/* The signals a mailbox can carry: HUP 1, INT 2, QUIT 3, USR1 10, USR2 12,
 * TERM 15, BREAK 21. */
#define XSIG__MBOX_SIGNALS                                                                         \
  ((1u << 1) | (1u << 2) | (1u << 3) | (1u << 10) | (1u << 12) | (1u << 15) | (1u << 21))

typedef struct xsig__mbox_msg {
  int type;
  int value;
  uint32_t mask;
} xsig__mbox_msg_t;

/* 0 and *out when buf holds exactly one valid message; XSIG_EINVAL for
 * anything else (wrong size, magic, version or type, a signal the mailbox
 * does not carry, a reply code out of range, a reserved byte set). */
int xsig__mbox_parse(const void *buf, size_t len, xsig__mbox_msg_t *out);
/* Writes *m into buf: XSIG__MBOX_SIZE, or XSIG_EINVAL when m would not parse
 * or cap is too small. */
int xsig__mbox_encode(const xsig__mbox_msg_t *m, void *buf, size_t cap);
#endif
