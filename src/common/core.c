/* The portable engine: contexts, watches, delivery counters and dispatch.
 *
 * Delivery is counted once per signal, process-wide (xsig__sigs). Each context
 * remembers how many deliveries of each watched signal it has already dispatched
 * ('seen'), so every context sees every delivery and none consumes another's.
 * The signal handler never takes a lock: it reads only the per-signal records and
 * the slot list, whose entries are reused but never freed. */
#include "xsig_int.h"
#include <stdlib.h>
#include <string.h>

struct xsig_watch {
  xsig_ctx_t *ctx;
  int sig;
  xsig_cb cb;
  void *user;
  unsigned flags;
  uint64_t seq; /* order of addition within the context */
  xsig_watch_t *prev, *next;
  const void *running; /* thread running its callback */
  int dead;            /* removed from its list */
  int orphan;          /* removed while running, nobody waits: its dispatcher frees it */
  int kept;            /* the caller holds the handle: a fired one-shot waits for unwatch */
  int fired;           /* a kept one-shot that fired: on its context's 'fired' list */
};

struct wlist {
  xsig_watch_t *head, *tail;
};

struct xsig_ctx {
  xsig__slot_t *slot;
  xsig__pair_t pair;
  struct wlist w[XSIG__NSIG];
  xsig_watch_t *fired; /* one-shots that fired, kept until unwatch or free (via next) */
  xsig__au64 seen[XSIG__NSIG];
  xsig__aptr dispatcher; /* thread that holds the dispatching role */
  xsig_watch_t *iter;    /* next watch of the running event, kept valid by unlink */
  uint64_t seq;
  xsig__aint doomed; /* freed while being dispatched: the dispatcher destroys it */
  xsig_ctx_t *next;
};

xsig__sigrec_t xsig__sigs[XSIG__NSIG];
/* The highest delivery number some context has taken, per signal: tells a
 * delivery whose watch was dispatched and removed before wake() reached it
 * that it was taken all the same. Written only by dispatchers (take()). */
static xsig__au64 taken[XSIG__NSIG];

static xsig__mutex_t lock = XSIG__MUTEX_INIT;
static xsig__cond_t idle = XSIG__COND_INIT; /* a watch's callback returned */
static xsig__aptr slots;                    /* xsig__slot_t * */
static int init_refs, ctx_refs, started;
static int watchers[XSIG__NSIG]; /* contexts watching each signal */
static xsig__aptr defctx;        /* xsig_ctx_t * */
static xsig_ctx_t *ctxs;

/* A thread's identity is the address of its own copy of this byte: unlike a
 * pthread_t it is the same in a fork child for the forking thread. */
static XSIG__THREAD_LOCAL char tls_me;
static XSIG__THREAD_LOCAL int tls_in_cb;
static XSIG__THREAD_LOCAL int tls_os_error;
#define ME ((const void *)&tls_me)

void xsig__lock(void) {
  xsig__os_mutex_lock(&lock);
}

void xsig__unlock(void) {
  xsig__os_mutex_unlock(&lock);
}

void xsig__set_os_error(int err) {
  tls_os_error = err;
}

int xsig_os_error(void) {
  return tls_os_error;
}

/* ---------------------------------------------------------------- signal side */

/* Stores v into *word unless the word already describes a later delivery:
 * two handlers on two threads may finish in either order, and the words must
 * end up describing the same, latest, delivery. */
static void describe_newest(xsig__au64 *word, uint64_t v) {
  uint64_t cur = xsig__au64_load(word);
  while ((int32_t)((uint32_t)(v >> 32) - (uint32_t)(cur >> 32)) > 0 &&
         !xsig__au64_cas_weak(word, &cur, v)) {
  }
}

/* Returns the delivery's number. */
static uint64_t record(int sig, int64_t pid, xsig_source_t src, uint32_t native) {
  xsig__sigrec_t *r = &xsig__sigs[sig];
  /* Counted first, then described with the delivery's number as a tag: a
   * reader that sees the tag knows the counter already includes it. seq_cst,
   * like the reads of 'dirty' and the counter: see announce(). */
  uint64_t n = xsig__au64_add(&r->count, 1) + 1, tag = (uint64_t)(uint32_t)n << 32;
  describe_newest(&r->who, tag | (uint32_t)pid);
  describe_newest(&r->how, tag | (uint64_t)(native & 0xffffffu) << 8 | (uint64_t)src);
  return n;
}

/* Makes sure the slot's pair is readable (or is about to be). Claim before
 * the poke: a byte is already promised and its reader will take our count
 * too, because it drains before it clears 'dirty' and reads the counters
 * after. A drained byte was always claimed before the clear, so 'dirty' can
 * never stay 1 over an empty pair. */
static void announce(xsig__slot_t *s) {
  if (xsig__aint_load(&s->dirty) || xsig__aint_xchg(&s->dirty, 1)) return;
  /* Pairs with slot_release(): either it sees us in 'users' and waits, or we
   * see wr already gone. Both sides are seq_cst on purpose. Nothing can stop
   * us in between: handlers run with every signal blocked, xsig_feed blocks
   * them, and the poke is no cancellation point. */
  xsig__aint_add(&s->users, 1);
  intptr_t wr = xsig__aiptr_load(&s->wr);
  if (wr != -1) xsig__os_pair_poke(wr);
  xsig__aint_add(&s->users, -1);
}

/* Returns how many live contexts watched sig, `skip` included. */
static int wake(int sig, const xsig__slot_t *skip) {
  int n = 0;
  xsig__slot_t *s = xsig__aptr_load_acq(&slots);
  for (; s; s = xsig__aptr_load_acq(&s->next)) {
    if (!xsig__maskbit(s->mask, sig) || xsig__aiptr_load(&s->wr) == -1) continue;
    n++;
    if (s != skip) announce(s);
  }
  return n;
}

/* Once the delivery is recorded, a dispatcher on another thread may take it
 * and run a one-shot callback (or one that unwatches) before wake() gets to
 * that context, and a caller that decides from the answer (Windows holds a
 * close, accepts a service control, acknowledges a mailbox message) must
 * count the watch that took it. take() raises 'taken' before the callback
 * runs, so before the watch's mask bit is cleared: a wake() that found the
 * bit cleared then sees it. */
int xsig__deliver(int sig, int64_t pid, xsig_source_t src, uint32_t native,
                  const xsig__slot_t *skip) {
  if (sig <= 0 || sig >= XSIG__NSIG) return 0;
  uint64_t n = record(sig, pid, src, native);
  int after = wake(sig, skip);
  if (after) return after;
  return xsig__au64_load(&taken[sig]) >= n;
}

void xsig__deliver_early(int sig, int64_t pid, xsig_source_t src, uint32_t native) {
  if (sig <= 0 || sig >= XSIG__NSIG) return;
  /* Before the count: a rebuild racing a handler on another thread of the
   * child then sees one delivery too many, never one too few. */
  xsig__au64_add(xsig__os_early(sig), 1);
  record(sig, pid, src, native);
}

int xsig__watched(int sig) {
  if (sig <= 0 || sig >= XSIG__NSIG) return 0;
  xsig__slot_t *s = xsig__aptr_load_acq(&slots);
  for (; s; s = xsig__aptr_load_acq(&s->next))
    if (xsig__maskbit(s->mask, sig) && xsig__aiptr_load(&s->wr) != -1) return 1;
  return 0;
}

int xsig_feed(int signum) {
  if (signum <= 0 || signum >= xsig__os_nsig() || xsig__os_reserved(signum)) return XSIG_EINVAL;
  xsig__mask_t old;
  xsig__os_block(&old);
  switch (xsig__os_where()) {
  case XSIG__HERE:
    xsig__deliver(signum, -1, XSIG_SRC_SELF, 0, NULL);
    break;
  case XSIG__CHILD:
    xsig__deliver_early(signum, -1, XSIG_SRC_SELF, 0);
    break;
  default: /* a vfork child: the memory and the pipes are the parent's */
    break;
  }
  xsig__os_unblock(&old);
  return 0;
}

/* ---------------------------------------------------------------- slots */

static void mask_set(xsig__slot_t *s, int sig, int on) {
  uint32_t bit = 1u << (sig % 32);
  if (on)
    xsig__au32_or(&s->mask[sig / 32], bit);
  else
    xsig__au32_and(&s->mask[sig / 32], ~bit);
}

static xsig__slot_t *slot_claim(void) {
  xsig__slot_t *s = xsig__aptr_load(&slots);
  for (; s; s = xsig__aptr_load(&s->next)) {
    int free_ = 0;
    if (xsig__aint_cas(&s->claimed, &free_, 1)) {
      xsig__aint_store(&s->dirty, 0);
      return s;
    }
  }
  s = calloc(1, sizeof *s);
  if (!s) return NULL;
  /* Not yet visible to any handler: these stores only initialise. */
  xsig__aiptr_store(&s->wr, -1);
  xsig__aint_store(&s->claimed, 1);
  xsig__aptr_store(&s->next, xsig__aptr_load(&slots));
  xsig__aptr_store_rel(&slots, s);
  return s;
}

/* Returns 0 when the slot may be reused and its pair closed now; -1 while a
 * handler is still inside its poke, whose write end may still be used. It
 * never waits for one: a POSIX handler that a foreign handler jumped out of
 * never finishes, and on Windows the poke is a send() that Wine serves
 * through its server, measured past 200 ms on a loaded machine. */
static int slot_release(xsig__slot_t *s) {
  for (int i = 0; i < XSIG__MASKWORDS; i++) xsig__au32_store(&s->mask[i], 0);
  xsig__aiptr_store(&s->wr, -1);
  /* Pairs with announce(): a handler that enters after this load sees wr
   * gone, so users can only fall from here. */
  if (xsig__aint_load(&s->users)) return -1;
  xsig__aint_store(&s->claimed, 0);
  return 0;
}

/* Pairs whose context is gone while a handler was inside its poke. Each stays
 * open, and its slot claimed, until that poke is over: reap() closes it then.
 * One that is never over (the jumped-out handler) stays open for good: a
 * leak, never a hang or a byte written into a reused descriptor. Under the
 * lock. */
struct retired {
  xsig__slot_t *slot;
  xsig__pair_t pair;
  struct retired *next;
};
static struct retired *retired;

static void retire(xsig__slot_t *s, const xsig__pair_t *pair) {
  struct retired *r = malloc(sizeof *r);
  if (!r) return; /* out of memory: open and claimed for good */
  *r = (struct retired){s, *pair, retired};
  retired = r;
}

static void reap(void) {
  for (struct retired **p = &retired; *p;) {
    struct retired *r = *p;
    if (xsig__aint_load(&r->slot->users)) {
      p = &r->next;
      continue;
    }
    xsig__os_pair_close(&r->pair);
    xsig__aint_store(&r->slot->claimed, 0);
    *p = r->next;
    free(r);
  }
}

/* ---------------------------------------------------------------- engine */

static int engine_hold(void) {
  if (started) return 0;
  int r = xsig__os_start();
  if (r < 0) return r;
  started = 1;
  return 0;
}

static void engine_release(void) {
  reap();
  if (started && init_refs == 0 && ctx_refs == 0) {
    xsig__os_stop();
    started = 0;
  }
}

static int ctx_open(xsig_ctx_t **out) {
  reap();
  xsig_ctx_t *c = calloc(1, sizeof *c);
  if (!c) return XSIG_ENOMEM;
  int r = xsig__os_pair_open(&c->pair);
  if (r < 0) {
    free(c);
    return r;
  }
  c->slot = slot_claim();
  if (!c->slot) {
    xsig__os_pair_close(&c->pair);
    free(c);
    return XSIG_ENOMEM;
  }
  xsig__aiptr_store(&c->slot->wr, c->pair.wr);
  c->next = ctxs;
  ctxs = c;
  *out = c;
  return 0;
}

static void ctx_destroy(xsig_ctx_t *c) {
  if (slot_release(c->slot) == 0)
    xsig__os_pair_close(&c->pair);
  else
    retire(c->slot, &c->pair);
  free(c);
}

static void unlink_watch(xsig_watch_t *w) {
  xsig_ctx_t *c = w->ctx;
  struct wlist *l = &c->w[w->sig];
  if (c->iter == w) c->iter = w->next;
  if (w->prev)
    w->prev->next = w->next;
  else
    l->head = w->next;
  if (w->next)
    w->next->prev = w->prev;
  else
    l->tail = w->prev;
  w->dead = 1;
  if (l->head) return;
  mask_set(c->slot, w->sig, 0);
  if (--watchers[w->sig] == 0) xsig__os_uninstall(w->sig);
}

/* Called with the lock held; returns with it held, w freed or handed over. */
static void drop_watch(xsig_watch_t *w) {
  unlink_watch(w);
  if (w->running && tls_in_cb) {
    w->orphan = 1;
    return;
  }
  while (w->running) xsig__os_cond_wait(&idle, &lock);
  free(w);
}

/* Unlinks the context and removes its watches; the struct goes now or, when a
 * dispatch is under way, when that dispatch ends. */
static void ctx_close(xsig_ctx_t *c) {
  for (int s = 1; s < XSIG__NSIG; s++)
    while (c->w[s].head) drop_watch(c->w[s].head);
  while (c->fired) {
    xsig_watch_t *w = c->fired;
    c->fired = w->next;
    free(w);
  }
  for (xsig_ctx_t **p = &ctxs; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  if (xsig__aptr_load(&c->dispatcher)) {
    xsig__aint_store(&c->doomed, 1);
    xsig__os_pair_poke(c->pair.wr); /* wake a dispatcher blocked in xsig_wait() */
  } else {
    ctx_destroy(c);
  }
}

void xsig__after_fork_child(void) {
  for (xsig_ctx_t *c = ctxs; c; c = c->next) {
    /* Forget the parent's deliveries, keep the ones the child took before it
     * got here (a _Fork child may have run for a while). */
    for (int s = 1; s < XSIG__NSIG; s++) {
      xsig__au64_store(&c->seen[s],
                       xsig__au64_load(&xsig__sigs[s].count) - xsig__au64_load(xsig__os_early(s)));
      for (xsig_watch_t *w = c->w[s].head; w; w = w->next)
        if (w->running != ME) w->running = NULL;
    }
    /* The new pair is made before the old one is let go, so its handle has a
     * new number: a stale copy of the parent's handle cannot alias it. */
    xsig__pair_t old = c->pair;
    if (xsig__os_pair_open(&c->pair) < 0) c->pair.rd = c->pair.wr = -1;
    xsig__aiptr_store(&c->slot->wr, c->pair.wr);
    xsig__aint_store(&c->slot->users, 0);
    xsig__aint_store(&c->slot->dirty, 0);
    xsig__os_pair_forget(&old);
    if (xsig__aptr_load(&c->dispatcher) != ME) xsig__aptr_store(&c->dispatcher, NULL);
    if (xsig__ctx_has_pending(c)) announce(c->slot);
  }
  for (int s = 1; s < XSIG__NSIG; s++) xsig__au64_store(xsig__os_early(s), 0);
  /* The parent's threads that were inside a poke are not in the child: its
   * copies of those pairs can go, and their slots be reused. */
  while (retired) {
    struct retired *r = retired;
    retired = r->next;
    xsig__aint_store(&r->slot->users, 0);
    xsig__os_pair_forget(&r->pair);
    xsig__aint_store(&r->slot->claimed, 0);
    free(r);
  }
}

/* Every public call that takes the lock starts here: a child made by raw
 * clone or _Fork skipped pthread_atfork and rebuilds on its first call,
 * whichever it is (an unwatch or a free there must not wait for the parent's
 * threads or poke the parent's pipes). */
static void enter(void) {
  xsig__lock();
  if (started) xsig__os_check_fork();
}

int xsig_init(void) {
  enter();
  int r = engine_hold();
  if (r == 0 && init_refs == 0) {
    xsig_ctx_t *c;
    r = ctx_open(&c);
    if (r == 0) xsig__aptr_store(&defctx, c);
  }
  if (r == 0)
    init_refs++;
  else
    engine_release();
  xsig__unlock();
  return r;
}

void xsig_shutdown(void) {
  enter();
  if (init_refs > 0 && --init_refs == 0) {
    xsig_ctx_t *c = xsig__aptr_xchg(&defctx, NULL);
    if (c) ctx_close(c);
    engine_release();
  }
  xsig__unlock();
}

int xsig_ctx_new(xsig_ctx_t **out) {
  if (!out) return XSIG_EINVAL;
  *out = NULL;
  enter();
  int r = engine_hold();
  if (r == 0) r = ctx_open(out);
  if (r == 0)
    ctx_refs++;
  else
    engine_release();
  xsig__unlock();
  return r;
}

void xsig_ctx_free(xsig_ctx_t *c) {
  if (!c) return;
  enter();
  if (c != xsig__aptr_load(&defctx)) { /* the default context belongs to xsig_shutdown */
    ctx_close(c);
    ctx_refs--;
    engine_release();
  }
  xsig__unlock();
}

/* With the lock held. */
static xsig_ctx_t *resolve(xsig_ctx_t *c) {
  return c ? c : (xsig_ctx_t *)xsig__aptr_load(&defctx);
}

xsig__slot_t *xsig__ctx_slot(xsig_ctx_t *c) {
  return c->slot;
}

xsig__pair_t *xsig__ctx_pair(xsig_ctx_t *c) {
  return &c->pair;
}

xsig_handle_t xsig_wakeup_handle(xsig_ctx_t *ctx) {
  enter();
  xsig_ctx_t *c = resolve(ctx);
  intptr_t rd = c ? c->pair.rd : -1;
  xsig__unlock();
  return (xsig_handle_t)rd;
}

/* ---------------------------------------------------------------- watching */

static int check_watchable(int sig) {
  if (!xsig__known(sig)) return XSIG_EINVAL;
  if (xsig__is_fault(sig)) return XSIG_EFAULTSIG;
  if (xsig_support(sig) == XSIG_UNSUPPORTED) return XSIG_ENOTSUP;
  return 0;
}

int xsig_watch(xsig_ctx_t *ctx, int sig, xsig_cb cb, void *user, unsigned flags,
               xsig_watch_t **out) {
  if (out) *out = NULL;
  if (!cb || (flags & ~XSIG_ONESHOT)) return XSIG_EINVAL;
  int r = check_watchable(sig);
  if (r < 0) return r;
  xsig_watch_t *w = calloc(1, sizeof *w);
  if (!w) return XSIG_ENOMEM;
  enter();
  xsig_ctx_t *c = resolve(ctx);
  if (!c) {
    r = XSIG_ESTATE;
  } else if (!c->w[sig].head) {
    /* Baseline, then interest, then the handler: a delivery after the
     * handler is installed is always both counted and seen. One that lands
     * between baseline and interest is pending but found no interest to
     * wake, so look once more and wake the pair ourselves. */
    xsig__au64_store(&c->seen[sig], xsig__au64_load(&xsig__sigs[sig].count));
    mask_set(c->slot, sig, 1);
    if (watchers[sig]++ == 0 && (r = xsig__os_install(sig)) < 0) {
      watchers[sig]--;
      mask_set(c->slot, sig, 0);
    } else if (xsig__au64_load(&xsig__sigs[sig].count) != xsig__au64_load(&c->seen[sig])) {
      announce(c->slot);
    }
  }
  if (r < 0) {
    xsig__unlock();
    free(w);
    return r;
  }
  *w = (xsig_watch_t){.ctx = c, .sig = sig, .cb = cb, .user = user, .flags = flags, .kept = !!out};
  w->seq = ++c->seq;
  struct wlist *l = &c->w[sig];
  w->prev = l->tail;
  if (l->tail)
    l->tail->next = w;
  else
    l->head = w;
  l->tail = w;
  xsig__unlock();
  if (out) *out = w;
  return 0;
}

/* A fired one-shot whose handle the caller holds: off the 'fired' list. */
static void drop_fired(xsig_watch_t *w) {
  for (xsig_watch_t **p = &w->ctx->fired; *p; p = &(*p)->next)
    if (*p == w) {
      *p = w->next;
      break;
    }
  free(w);
}

int xsig_unwatch(xsig_watch_t *w) {
  if (!w) return XSIG_EINVAL;
  enter();
  int r = XSIG_EINVAL;
  if (w->fired)
    drop_fired(w);
  else if (!w->dead) {
    drop_watch(w);
    r = 0;
  }
  xsig__unlock();
  return r;
}

static uint32_t clamp32(uint64_t n) {
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

uint32_t xsig_pending(xsig_ctx_t *ctx, int sig) {
  if (sig <= 0 || sig >= XSIG__NSIG) return 0;
  enter();
  xsig_ctx_t *c = resolve(ctx);
  uint64_t n = 0;
  if (c && xsig__maskbit(c->slot->mask, sig))
    n = xsig__au64_load(&xsig__sigs[sig].count) - xsig__au64_load(&c->seen[sig]);
  xsig__unlock();
  return clamp32(n);
}

int xsig__ctx_has_pending(xsig_ctx_t *c) {
  for (int i = 0; i < XSIG__MASKWORDS; i++) {
    uint32_t m = xsig__au32_load_acq(&c->slot->mask[i]);
    for (; m; m &= m - 1) {
      int s = i * 32 + xsig__ctz32(m);
      if (xsig__au64_load_acq(&xsig__sigs[s].count) != xsig__au64_load_rlx(&c->seen[s])) return 1;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- dispatch */

static void describe(uint64_t who, uint64_t how, xsig_event_t *ev) {
  uint32_t native = (uint32_t)(how >> 8) & 0xffffffu;
  if (native & 0x800000u) native |= 0xff000000u; /* si_code may be negative */
  ev->sender_pid = (int32_t)(uint32_t)who;
  ev->native = native;
  ev->source = (xsig_source_t)(how & 0xffu);
}

/* Takes this context's undispatched deliveries of s into ev: 0 when none.
 * The details must be those of a delivery counted in this event: both detail
 * words carry the same tag, and the delivery that tag names lies after
 * 'seen'. The words are read before the counter, and a handler counts before
 * it describes, so the counter read includes the tagged delivery. When no
 * delivery after 'seen' is described yet, their handlers (on other threads)
 * are between counting and describing: leave them, since each wakes this
 * context after it has described its delivery. */
static int take(xsig_ctx_t *c, int s, xsig_event_t *ev) {
  xsig__sigrec_t *r = &xsig__sigs[s];
  uint64_t seen = xsig__au64_load_rlx(&c->seen[s]);
  uint64_t who = xsig__au64_load(&r->who), how = xsig__au64_load(&r->how);
  uint64_t now = xsig__au64_load(&r->count);
  uint32_t tag = (uint32_t)(who >> 32);
  uint64_t tagged = now - (uint32_t)((uint32_t)now - tag); /* latest number <= now with that tag */
  if (now == seen || (uint32_t)(how >> 32) != tag || tagged <= seen) return 0;
  xsig__au64_store_rlx(&c->seen[s], now);
  uint64_t t = xsig__au64_load(&taken[s]);
  while (t < now && !xsig__au64_cas_weak(&taken[s], &t, now)) {
  }
  *ev = (xsig_event_t){.signum = s, .count = clamp32(now - seen)};
  describe(who, how, ev);
  return 1;
}

/* Takes every watched signal's deliveries; returns how many signals had any. */
static int collect(xsig_ctx_t *c, xsig_event_t *evs) {
  int n = 0;
  for (int i = 0; i < XSIG__MASKWORDS; i++) {
    uint32_t m = xsig__au32_load_acq(&c->slot->mask[i]);
    for (; m; m &= m - 1) n += take(c, i * 32 + xsig__ctz32(m), &evs[n]);
  }
  return n;
}

/* After a callback, whether it returned or its thread is being cancelled out
 * of it. With the lock held. */
static void callback_done(xsig_watch_t *w) {
  w->running = NULL;
  if (w->dead) {
    if (w->orphan)
      free(w);
    else
      xsig__os_cond_broadcast(&idle);
  } else if (w->flags & XSIG_ONESHOT) {
    unlink_watch(w);
    if (w->kept) {
      w->fired = 1;
      w->next = w->ctx->fired;
      w->ctx->fired = w;
    } else {
      free(w);
    }
  }
}

struct cb_call {
  xsig_watch_t *w;
  const xsig_event_t *ev;
};

static void cb_run(void *arg) {
  struct cb_call *k = arg;
  k->w->cb(k->ev, k->w->user);
}

/* The thread is cancelled (or unwound) inside a callback: the later watches of
 * this event do not run, but nothing stays marked as running. */
static void cb_abandoned(void *arg) {
  struct cb_call *k = arg;
  tls_in_cb--;
  xsig__lock();
  k->w->ctx->iter = NULL;
  callback_done(k->w);
  xsig__unlock();
}

/* Runs the watches that existed when the event was taken, in the order they
 * were added; the lock is dropped around each callback. */
static int run_event(xsig_ctx_t *c, const xsig_event_t *ev) {
  int ran = 0;
  xsig__lock();
  uint64_t limit = c->seq;
  for (xsig_watch_t *w = c->w[ev->signum].head; w && w->seq <= limit; w = c->iter) {
    c->iter = w->next;
    w->running = ME;
    xsig__unlock();
    tls_in_cb++;
    struct cb_call k = {w, ev};
    xsig__os_guarded(cb_run, &k, cb_abandoned);
    tls_in_cb--;
    xsig__lock();
    callback_done(w);
    ran++;
  }
  c->iter = NULL;
  xsig__unlock();
  return ran;
}

/* Drains the pair only when a handler wrote to it: a delivery that woke its
 * waiter by other means (the POSIX fast path) costs no read. */
static int dispatch(xsig_ctx_t *c, int drain, int *took) {
  xsig_event_t evs[XSIG__NSIG];
  /* Drain first, clear after (see announce()). */
  if (drain || xsig__aint_load(&c->slot->dirty)) xsig__os_pair_drain(&c->pair);
  xsig__aint_store(&c->slot->dirty, 0);
  int n = collect(c, evs), ran = 0;
  for (int i = 0; i < n; i++) ran += run_event(c, &evs[i]);
  *took = n;
  return ran;
}

static int acquire(xsig_ctx_t *ctx, xsig_ctx_t **out) {
  enter();
  xsig_ctx_t *c = resolve(ctx);
  void *none = NULL;
  int r = c && xsig__aptr_cas(&c->dispatcher, &none, (void *)ME) ? 0 : XSIG_ESTATE;
  xsig__unlock();
  *out = c;
  return r;
}

static void release(xsig_ctx_t *c) {
  xsig__lock();
  xsig__aptr_store(&c->dispatcher, NULL);
  if (xsig__aint_load(&c->doomed)) ctx_destroy(c);
  xsig__unlock();
}

/* A dispatcher cancelled (or unwound) in its wait or a callback gives the
 * role back. A delivery that ended a fast-path wait wrote no byte: write one,
 * so that whoever dispatches next (a poll loop, say) is woken. */
struct call {
  xsig_ctx_t *c;
  int timeout_ms;
  int r;
};

static void role_abandoned(void *arg) {
  xsig_ctx_t *c = ((struct call *)arg)->c;
  if (!xsig__aint_load(&c->doomed) && xsig__ctx_has_pending(c)) announce(c->slot);
  release(c);
}

static void dispatch_body(void *arg) {
  struct call *k = arg;
  int took;
  k->r = dispatch(k->c, 1, &took); /* the caller's poll may have seen an unclaimed byte */
}

XSIG__UNWOUND int xsig_dispatch(xsig_ctx_t *ctx) {
  struct call k = {0};
  int r = acquire(ctx, &k.c);
  if (r < 0) return r;
  xsig__os_guarded(dispatch_body, &k, role_abandoned);
  release(k.c);
  return k.r;
}

static void wait_body(void *arg) {
  struct call *k = arg;
  xsig_ctx_t *c = k->c;
  int took, drain = 0, r;
  uint64_t deadline = k->timeout_ms > 0 ? xsig__os_now_ms() + (uint64_t)k->timeout_ms : 0;
  for (;;) {
    r = dispatch(c, drain, &took);
    if (took || xsig__aint_load(&c->doomed)) break;
    int left = k->timeout_ms;
    if (k->timeout_ms > 0) {
      uint64_t now = xsig__os_now_ms();
      left = now >= deadline ? 0 : (int)(deadline - now);
    }
    if (left == 0) break;
    r = xsig__os_wait(c, left);
    if (r < 0) {
      /* A delivery that ended the wait may have skipped the pipe: the next
       * dispatcher must still be woken. */
      if (xsig__ctx_has_pending(c)) announce(c->slot);
      break;
    }
    drain = r;
  }
  k->r = r;
}

XSIG__UNWOUND int xsig_wait(xsig_ctx_t *ctx, int timeout_ms) {
  if (timeout_ms < -1) return XSIG_EINVAL;
  struct call k = {.timeout_ms = timeout_ms};
  int r = acquire(ctx, &k.c);
  if (r < 0) return r;
  xsig__os_guarded(wait_body, &k, role_abandoned);
  release(k.c);
  return k.r;
}

/* ---------------------------------------------------------------- dispositions */

/* Under the lock, so that no watch can install xsig's handler in between. */
static int set_disposition(int sig, int (*set)(int)) {
  int r = check_watchable(sig);
  if (r < 0) return r;
  enter();
  r = watchers[sig] ? XSIG_ESTATE : set(sig);
  xsig__unlock();
  return r;
}

int xsig_ignore(int sig) {
  return set_disposition(sig, xsig__os_ignore);
}

int xsig_default(int sig) {
  return set_disposition(sig, xsig__os_default);
}

int xsig_disposition(int sig) {
  return xsig__known(sig) ? xsig__os_disposition(sig) : XSIG_EINVAL;
}

int xsig_raise(int sig) {
  return xsig__known(sig) ? xsig__os_raise(sig) : XSIG_EINVAL;
}

int xsig_send(int64_t pid, int sig) {
  if (pid <= 0 || (sig != 0 && !xsig__known(sig))) return XSIG_EINVAL;
  return xsig__os_send(pid, sig);
}

int xsig_send_group(int64_t pgid, int sig) {
  if (pgid < 0 || (sig != 0 && !xsig__known(sig))) return XSIG_EINVAL;
  return xsig__os_send_group(pgid, sig);
}

int xsig_accepts(int64_t pid, int *out, size_t cap) {
  if (pid <= 0 || (!out && cap)) return XSIG_EINVAL;
  uint32_t mask = 0;
  int r = xsig__os_accepts(pid, &mask);
  if (r < 0) return r;
  int total = 0;
  for (int s = 1; s < 32; s++) {
    if (!(mask >> s & 1u)) continue;
    if ((size_t)total < cap) out[total] = s;
    total++;
  }
  return total;
}
