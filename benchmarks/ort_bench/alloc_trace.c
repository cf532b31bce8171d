/* LD_PRELOAD shim: log every posix_memalign / aligned_alloc and its free to $ALLOC_TRACE.
 *
 * onnxruntime's CPU allocator takes its memory with posix_memalign; with the CPU arena turned off
 * (SessionOptions.enable_cpu_mem_arena = False) every tensor, kernel scratch buffer and memory
 * pattern block of a run is one call, so the log is the exact request sequence the BFC arena
 * would see (bfc_sim.py replays it). Python's own objects use malloc and are not logged.
 *
 *   gcc -O2 -shared -fPIC -o alloc_trace.so alloc_trace.c -ldl -lpthread
 *   ALLOC_TRACE=trace.log LD_PRELOAD=./alloc_trace.so python bfc_sim.py --child MODEL 4096,4097 1
 *
 * Lines: "A <ptr> <bytes>" and "F <ptr> <bytes>"; the child adds "PASS <tokens>" / "END <tokens>".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>

#define MIN_SIZE 1
#define TABLE (1 << 16)
static void *keys[TABLE];
static size_t vals[TABLE];
static int fd = -1;
static int (*real_pm)(void **, size_t, size_t);
static void *(*real_aligned)(size_t, size_t);
static void (*real_free)(void *);
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* onnxruntime's pool threads free too */

static void init(void) {
  if (!real_pm) {
    real_pm = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned = dlsym(RTLD_NEXT, "aligned_alloc");
    real_free = dlsym(RTLD_NEXT, "free");
  }
  if (fd < 0) {
    const char *p = getenv("ALLOC_TRACE");
    if (p) fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
}
/* Open addressing; a freed slot becomes a tombstone (1) that put() reuses. */
static void put(void *p, size_t n) {
  size_t h = ((uintptr_t)p >> 6) & (TABLE - 1);
  for (int i = 0; i < TABLE; i++, h = (h + 1) & (TABLE - 1))
    if (!keys[h] || keys[h] == (void *)1 || keys[h] == p) { keys[h] = p; vals[h] = n; return; }
}
static size_t take(void *p) {
  size_t h = ((uintptr_t)p >> 6) & (TABLE - 1);
  for (int i = 0; i < TABLE && keys[h]; i++, h = (h + 1) & (TABLE - 1))
    if (keys[h] == p) { size_t n = vals[h]; keys[h] = (void *)1; vals[h] = 0; return n; }
  return 0;
}
static void logline(char c, void *p, size_t n) {
  if (fd < 0) return;
  char b[64]; int k = snprintf(b, sizeof b, "%c %lx %zu\n", c, (unsigned long)p, n);
  write(fd, b, k);
}
int posix_memalign(void **out, size_t al, size_t n) {
  init();
  int r = real_pm(out, al, n);
  if (!r && n >= MIN_SIZE) {
    pthread_mutex_lock(&lock); put(*out, n); logline('A', *out, n); pthread_mutex_unlock(&lock);
  }
  return r;
}
void *aligned_alloc(size_t al, size_t n) {
  init();
  void *p = real_aligned(al, n);
  if (p && n >= MIN_SIZE) {
    pthread_mutex_lock(&lock); put(p, n); logline('A', p, n); pthread_mutex_unlock(&lock);
  }
  return p;
}
void free(void *p) {
  if (!real_free) init();
  if (p) {
    pthread_mutex_lock(&lock);
    size_t n = take(p);
    if (n) logline('F', p, n);
    pthread_mutex_unlock(&lock);
  }
  real_free(p);
}
