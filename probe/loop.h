/* The single-threaded event loop: epoll for file descriptors, a binary heap of timers,
 * a monotonic clock. It owns no sockets; watchers and timers are embedded in their
 * owners, which must outlive their registration (unwatch / cancel before freeing). */
#ifndef MS_LOOP_H
#define MS_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

enum { MS_LOOP_READ = 1, MS_LOOP_WRITE = 2 };

struct ms_loop;

typedef void (*ms_loop_io_cb)(void *arg, unsigned events);
typedef void (*ms_loop_timer_cb)(void *arg);

struct ms_loop_watch {
    int fd;          /* -1 when not registered */
    unsigned events; /* MS_LOOP_READ | MS_LOOP_WRITE currently asked for */
    ms_loop_io_cb cb;
    void *arg;
};

struct ms_loop_timer {
    double when;       /* monotonic seconds */
    size_t heap_index; /* position in the heap, or SIZE_MAX when not armed */
    ms_loop_timer_cb cb;
    void *arg;
};

/* Returns 0, MS_ENOMEM or MS_EIO. */
int ms_loop_new(struct ms_loop **out);
void ms_loop_free(struct ms_loop *loop);

/* Monotonic seconds (CLOCK_MONOTONIC). */
double ms_loop_now(void);

void ms_loop_watch_init(struct ms_loop_watch *w);
/* Register fd or change its interest (events 0 keeps it registered but idle).
 * Returns 0 or MS_EIO. */
int ms_loop_watch(struct ms_loop *loop, struct ms_loop_watch *w, int fd, unsigned events,
                  ms_loop_io_cb cb, void *arg);
/* Stop watching (before closing the fd). Safe when not registered. */
void ms_loop_unwatch(struct ms_loop *loop, struct ms_loop_watch *w);

void ms_loop_timer_init(struct ms_loop_timer *t);
/* Arm (or re-arm) t to fire delay seconds from now. Returns 0 or MS_ENOMEM. */
int ms_loop_timer_set(struct ms_loop *loop, struct ms_loop_timer *t, double delay,
                      ms_loop_timer_cb cb, void *arg);
void ms_loop_timer_cancel(struct ms_loop *loop, struct ms_loop_timer *t);
bool ms_loop_timer_armed(const struct ms_loop_timer *t);

/* Signals noticed inside the loop, never in a handler: the signals of the set are blocked
 * (so they interrupt nothing and their default action, e.g. SIGTERM's exit, never runs) and
 * read from a signalfd the loop watches; cb runs from the loop like any watcher. Embedded
 * in its owner. */
typedef void (*ms_loop_signal_cb)(void *arg, int signo);

struct ms_loop_signals {
    int fd; /* the signalfd, -1 when not started */
    struct ms_loop_watch watch;
    ms_loop_signal_cb cb;
    void *arg;
};

void ms_loop_signals_init(struct ms_loop_signals *s);
/* Block the signals in set and watch them. Returns 0 or MS_EIO. */
int ms_loop_signals_start(struct ms_loop *loop, struct ms_loop_signals *s, const sigset_t *set,
                          ms_loop_signal_cb cb, void *arg);
/* Stop watching and close the signalfd. The signals stay blocked: one that arrives while
 * the caller writes its last lines must not end the process halfway. Safe when not started. */
void ms_loop_signals_stop(struct ms_loop *loop, struct ms_loop_signals *s);

/* Waiting for a file descriptor: an owner whose socket() failed with EMFILE or ENFILE
 * queues itself instead of failing, and is called back (in queue order, from the loop) to
 * try again when descriptors are released (ms_loop_fds_released), or after at most
 * MS_LOOP_FD_RETRY seconds for those released by code that does not say so. A callback
 * that fails again queues itself again. Embedded in its owner. */
#define MS_LOOP_FD_RETRY 0.1

struct ms_loop_fd_waiter {
    struct ms_loop_fd_waiter *prev, *next;
    bool queued;
    ms_loop_timer_cb cb;
    void *arg;
};

void ms_loop_fd_waiter_init(struct ms_loop_fd_waiter *w);
/* Queue w (at the end; no-op when queued already). */
void ms_loop_fd_wait(struct ms_loop *loop, struct ms_loop_fd_waiter *w, ms_loop_timer_cb cb,
                     void *arg);
/* Leave the queue (safe when not queued). */
void ms_loop_fd_wait_cancel(struct ms_loop *loop, struct ms_loop_fd_waiter *w);
/* Descriptors were closed: wake the waiters on the next turn. */
void ms_loop_fds_released(struct ms_loop *loop);
/* Owners waiting for a descriptor now. */
size_t ms_loop_fd_waiters(const struct ms_loop *loop);

/* Run until ms_loop_stop, or until no watcher and no timer is left.
 * Returns 0 or MS_EIO (epoll failed). */
int ms_loop_run(struct ms_loop *loop);
void ms_loop_stop(struct ms_loop *loop);

#endif
