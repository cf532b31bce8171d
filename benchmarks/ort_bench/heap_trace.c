/* LD_PRELOAD shim: log every malloc / calloc / realloc / posix_memalign / aligned_alloc of
 * 256 KiB or more, and its free, to $MTRACE ("<kind> <ptr> <bytes> <thread id>"; kinds M, C, R,
 * A and F). Unlike alloc_trace.c it wraps malloc too (through glibc's __libc_* entry points, so
 * no dlsym recursion) and leaves onnxruntime's arena on: it shows what a genai run allocates
 * outside the arena and where glibc places it (heap addresses below the mmap area).
 *
 *   gcc -O2 -shared -fPIC -o heap_trace.so heap_trace.c -lpthread
 *   MTRACE=t.log LD_PRELOAD=./heap_trace.so VENV/bin/python heap_trace.py --child MODEL 2048 4096
 *   python3 heap_trace.py t.log
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>
#include <pthread.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
#define BIG (256*1024)
#define TABLE (1<<16)
static void *keys[TABLE]; static size_t vals[TABLE]; static int fd=-1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int busy;
static void init(void){ if(fd<0){const char*p=getenv("MTRACE"); if(p) fd=open(p,O_WRONLY|O_CREAT|O_APPEND,0644);} }
static void put(void*p,size_t n){size_t h=((uintptr_t)p>>6)&(TABLE-1);for(int i=0;i<TABLE;i++,h=(h+1)&(TABLE-1)) if(!keys[h]||keys[h]==(void*)1||keys[h]==p){keys[h]=p;vals[h]=n;return;}}
static size_t take(void*p){size_t h=((uintptr_t)p>>6)&(TABLE-1);for(int i=0;i<TABLE&&keys[h];i++,h=(h+1)&(TABLE-1)) if(keys[h]==p){size_t n=vals[h];keys[h]=(void*)1;vals[h]=0;return n;}return 0;}
static void logline(char c,void*p,size_t n){ if(busy) return; busy=1; init(); if(fd>=0){char b[64];int k=snprintf(b,sizeof b,"%c %lx %zu %ld\n",c,(unsigned long)p,n,(long)gettid()); write(fd,b,k);} busy=0; }
static void rec(char c, void*p, size_t n){ if(!p||n<BIG) return; pthread_mutex_lock(&lock); put(p,n); pthread_mutex_unlock(&lock); logline(c,p,n); }
void *malloc(size_t n){ void*p=__libc_malloc(n); rec('M',p,n); return p; }
void *calloc(size_t a, size_t b){ void*p=__libc_calloc(a,b); rec('C',p,a*b); return p; }
void *realloc(void*q,size_t n){ if(q){pthread_mutex_lock(&lock); size_t o=take(q); pthread_mutex_unlock(&lock); if(o) logline('F',q,o);} void*p=__libc_realloc(q,n); rec('R',p,n); return p; }
int posix_memalign(void**out,size_t al,size_t n){ void*p=__libc_memalign(al,n); if(!p) return 12; *out=p; rec('A',p,n); return 0; }
void *aligned_alloc(size_t al,size_t n){ void*p=__libc_memalign(al,n); rec('A',p,n); return p; }
void free(void*p){ if(p){ pthread_mutex_lock(&lock); size_t n=take(p); pthread_mutex_unlock(&lock); if(n) logline('F',p,n);} __libc_free(p); }
