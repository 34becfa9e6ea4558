/* The mailbox's wire format (see mailbox_msg.h): pure functions, no state, so
 * the same code runs in the Windows backend and in the Linux fuzzer. */
#include "mailbox_msg.h"
#include "xsig/xsig.h"
#include <string.h>

static const unsigned char magic[4] = {'X', 'S', 'M', 'B'};

/* What the fields of a message may hold, whichever direction it travels. */
static int valid(const xsig__mbox_msg_t *m) {
  switch (m->type) {
  case XSIG__MBOX_SIGNAL:
    return m->value > 0 && m->value < 32 && (XSIG__MBOX_SIGNALS >> m->value & 1u) && m->mask == 0;
  case XSIG__MBOX_QUERY:
    return m->value == 0 && m->mask == 0;
  case XSIG__MBOX_REPLY:
    /* Error codes are small negatives; the mask names carried signals only. */
    return m->value <= 0 && m->value >= -64 && (m->mask & ~XSIG__MBOX_SIGNALS) == 0;
  default:
    return 0;
  }
}

int xsig__mbox_parse(const void *buf, size_t len, xsig__mbox_msg_t *out) {
  const unsigned char *b = buf;
  static const unsigned char zero[4];
  if (!b || !out || len != XSIG__MBOX_SIZE || memcmp(b, magic, 4) != 0 ||
      b[4] != XSIG__MBOX_VERSION || memcmp(b + 12, zero, 4) != 0)
    return XSIG_EINVAL;
  xsig__mbox_msg_t m;
  m.type = b[5];
  m.value = (int16_t)(uint16_t)(b[6] | b[7] << 8);
  m.mask = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
  if (!valid(&m)) return XSIG_EINVAL;
  *out = m;
  return 0;
}

int xsig__mbox_encode(const xsig__mbox_msg_t *m, void *buf, size_t cap) {
  unsigned char *b = buf;
  if (!m || !b || cap < XSIG__MBOX_SIZE || !valid(m)) return XSIG_EINVAL;
  uint16_t v = (uint16_t)(int16_t)m->value;
  memcpy(b, magic, 4);
  b[4] = XSIG__MBOX_VERSION;
  b[5] = (unsigned char)m->type;
  b[6] = (unsigned char)(v & 0xffu);
  b[7] = (unsigned char)(v >> 8);
  for (int i = 0; i < 4; i++) b[8 + i] = (unsigned char)(m->mask >> (8 * i));
  memset(b + 12, 0, 4);
  return XSIG__MBOX_SIZE;
}
