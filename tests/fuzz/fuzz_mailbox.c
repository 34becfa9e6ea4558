/* libFuzzer target for the Windows mailbox's wire format, run natively on
 * Linux. Links: src/common/mailbox_msg.c (nothing else; include/ and src/ on
 * the include path). Seeds: tests/fuzz/corpus/mailbox/.
 *
 * Checks, for every input: the parser never reads past len; whatever it
 * accepts is exactly 16 bytes, holds a carried signal or a valid reply, and
 * encodes back to the very same bytes (one encoding per message).
 * fuzz-sources: */
#include "common/mailbox_msg.h"
#include "xsig/xsig.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly size bytes: an over-read shows under ASan. */
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  xsig__mbox_msg_t m;
  if (xsig__mbox_parse(buf, size, &m) == 0) {
    unsigned char again[XSIG__MBOX_SIZE];
    if (size != XSIG__MBOX_SIZE) abort();
    if (m.type == XSIG__MBOX_SIGNAL && !(XSIG__MBOX_SIGNALS >> m.value & 1u)) abort();
    if (m.type == XSIG__MBOX_REPLY && (m.value > 0 || (m.mask & ~XSIG__MBOX_SIGNALS))) abort();
    if (xsig__mbox_encode(&m, again, sizeof again) != XSIG__MBOX_SIZE) abort();
    if (memcmp(again, buf, XSIG__MBOX_SIZE) != 0) abort();
  }
  /* The encoder refuses what would not parse, and never writes past cap. */
  if (size >= 3 * sizeof(int)) {
    xsig__mbox_msg_t e;
    memcpy(&e.type, data, sizeof(int));
    memcpy(&e.value, data + sizeof(int), sizeof(int));
    memcpy(&e.mask, data + 2 * sizeof(int), sizeof(uint32_t));
    unsigned char out[XSIG__MBOX_SIZE];
    xsig__mbox_msg_t back;
    if (xsig__mbox_encode(&e, out, sizeof out) == XSIG__MBOX_SIZE &&
        (xsig__mbox_parse(out, sizeof out, &back) != 0 || back.type != e.type ||
         back.value != e.value || back.mask != e.mask))
      abort();
    if (xsig__mbox_encode(&e, out, sizeof out - 1) != XSIG_EINVAL) abort();
  }
  free(buf);
  return 0;
}
