#include "probe/loop.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "probe/error.h"

#define MS_LOOP_BATCH 64

struct ms_loop {
    int epfd;
    size_t watch_count;          /* registered watchers */
    struct ms_loop_timer **heap; /* min-heap on `when` */
    size_t heap_len, heap_cap;
    bool stopping;
    struct ms_loop_fd_waiter *fd_head, *fd_tail; /* waiting for a file descriptor */
    size_t fd_waiting;
    struct ms_loop_timer fd_timer; /* wakes them */
};

double ms_loop_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ms_loop_new(struct ms_loop **out)
{
    struct ms_loop *loop = calloc(1, sizeof *loop);
    if (!loop)
        return MS_ENOMEM;
    ms_loop_timer_init(&loop->fd_timer);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return MS_EIO;
    }
    *out = loop;
    return 0;
}

void ms_loop_free(struct ms_loop *loop)
{
    if (!loop)
        return;
    close(loop->epfd);
    free(loop->heap);
    free(loop);
}

void ms_loop_watch_init(struct ms_loop_watch *w)
{
    *w = (struct ms_loop_watch){.fd = -1};
}

static uint32_t epoll_events(unsigned events)
{
    return (events & MS_LOOP_READ ? EPOLLIN : 0u) | (events & MS_LOOP_WRITE ? EPOLLOUT : 0u);
}

int ms_loop_watch(struct ms_loop *loop, struct ms_loop_watch *w, int fd, unsigned events,
                  ms_loop_io_cb cb, void *arg)
{
    struct epoll_event ev = {.events = epoll_events(events), .data.ptr = w};
    if (w->fd >= 0 && w->fd != fd)
        ms_loop_unwatch(loop, w);
    int op = w->fd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (op == EPOLL_CTL_MOD && w->events == events) {
        w->cb = cb;
        w->arg = arg;
        return 0;
    }
    if (epoll_ctl(loop->epfd, op, fd, &ev) < 0)
        return MS_EIO;
    if (op == EPOLL_CTL_ADD)
        loop->watch_count++;
    w->fd = fd;
    w->events = events;
    w->cb = cb;
    w->arg = arg;
    return 0;
}

void ms_loop_unwatch(struct ms_loop *loop, struct ms_loop_watch *w)
{
    if (w->fd < 0)
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    loop->watch_count--;
    w->fd = -1;
    w->events = 0;
}

void ms_loop_timer_init(struct ms_loop_timer *t)
{
    *t = (struct ms_loop_timer){.heap_index = SIZE_MAX};
}

bool ms_loop_timer_armed(const struct ms_loop_timer *t)
{
    return t->heap_index != SIZE_MAX;
}

static void heap_swap(struct ms_loop *loop, size_t a, size_t b)
{
    struct ms_loop_timer *t = loop->heap[a];
    loop->heap[a] = loop->heap[b];
    loop->heap[b] = t;
    loop->heap[a]->heap_index = a;
    loop->heap[b]->heap_index = b;
}

static void heap_up(struct ms_loop *loop, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (loop->heap[parent]->when <= loop->heap[i]->when)
            break;
        heap_swap(loop, i, parent);
        i = parent;
    }
}

static void heap_down(struct ms_loop *loop, size_t i)
{
    for (;;) {
        size_t left = 2 * i + 1, right = left + 1, least = i;
        if (left < loop->heap_len && loop->heap[left]->when < loop->heap[least]->when)
            least = left;
        if (right < loop->heap_len && loop->heap[right]->when < loop->heap[least]->when)
            least = right;
        if (least == i)
            return;
        heap_swap(loop, i, least);
        i = least;
    }
}

void ms_loop_timer_cancel(struct ms_loop *loop, struct ms_loop_timer *t)
{
    size_t i = t->heap_index;
    if (i == SIZE_MAX)
        return;
    loop->heap_len--;
    if (i != loop->heap_len) {
        loop->heap[i] = loop->heap[loop->heap_len];
        loop->heap[i]->heap_index = i;
        heap_up(loop, i);
        heap_down(loop, loop->heap[i]->heap_index);
    }
    t->heap_index = SIZE_MAX;
}

int ms_loop_timer_set(struct ms_loop *loop, struct ms_loop_timer *t, double delay,
                      ms_loop_timer_cb cb, void *arg)
{
    ms_loop_timer_cancel(loop, t);
    if (loop->heap_len == loop->heap_cap) {
        size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        struct ms_loop_timer **heap = realloc(loop->heap, cap * sizeof *heap);
        if (!heap)
            return MS_ENOMEM;
        loop->heap = heap;
        loop->heap_cap = cap;
    }
    t->when = ms_loop_now() + (delay > 0 ? delay : 0);
    t->cb = cb;
    t->arg = arg;
    t->heap_index = loop->heap_len;
    loop->heap[loop->heap_len++] = t;
    heap_up(loop, t->heap_index);
    return 0;
}

void ms_loop_stop(struct ms_loop *loop)
{
    loop->stopping = true;
}

/* Fire every timer that is due; a callback may arm or cancel any timer. */
static void run_due_timers(struct ms_loop *loop)
{
    double now = ms_loop_now();
    while (!loop->stopping && loop->heap_len > 0 && loop->heap[0]->when <= now) {
        struct ms_loop_timer *t = loop->heap[0];
        ms_loop_timer_cancel(loop, t);
        t->cb(t->arg);
    }
}

static int next_wait_ms(const struct ms_loop *loop)
{
    if (loop->heap_len == 0)
        return -1;
    double wait = loop->heap[0]->when - ms_loop_now();
    if (wait <= 0)
        return 0;
    /* Round up so a timer is never polled for just before it is due (a busy loop). */
    double ms = wait * 1000.0 + 1.0;
    return ms > 60000.0 ? 60000 : (int)ms;
}

int ms_loop_run(struct ms_loop *loop)
{
    struct epoll_event events[MS_LOOP_BATCH];
    loop->stopping = false;
    while (!loop->stopping && (loop->watch_count > 0 || loop->heap_len > 0)) {
        int n = epoll_wait(loop->epfd, events, MS_LOOP_BATCH, next_wait_ms(loop));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return MS_EIO;
        }
        for (int i = 0; i < n && !loop->stopping; i++) {
            struct ms_loop_watch *w = events[i].data.ptr;
            /* A callback earlier in this batch may have unwatched w (owners outlive the
             * loop run, so w is still valid memory). */
            if (w->fd < 0)
                continue;
            unsigned ev = 0;
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                ev |= MS_LOOP_READ;
            if (events[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                ev |= MS_LOOP_WRITE;
            w->cb(w->arg, ev & (w->events ? w->events : ev));
        }
        run_due_timers(loop);
    }
    return 0;
}

void ms_loop_signals_init(struct ms_loop_signals *s)
{
    *s = (struct ms_loop_signals){.fd = -1};
    ms_loop_watch_init(&s->watch);
}

static void on_signalfd(void *arg, unsigned events)
{
    (void)events;
    struct ms_loop_signals *s = arg;
    struct signalfd_siginfo info;
    /* One signal per call: the callback may stop the watch. */
    ssize_t n = read(s->fd, &info, sizeof info);
    if (n == (ssize_t)sizeof info)
        s->cb(s->arg, (int)info.ssi_signo);
}

int ms_loop_signals_start(struct ms_loop *loop, struct ms_loop_signals *s, const sigset_t *set,
                          ms_loop_signal_cb cb, void *arg)
{
    sigset_t saved;
    if (sigprocmask(SIG_BLOCK, set, &saved) < 0)
        return MS_EIO;
    s->fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
    s->cb = cb;
    s->arg = arg;
    if (s->fd >= 0 && ms_loop_watch(loop, &s->watch, s->fd, MS_LOOP_READ, on_signalfd, s) == 0)
        return 0;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    sigprocmask(SIG_SETMASK, &saved, NULL); /* unwatched signals must not be lost */
    return MS_EIO;
}

void ms_loop_signals_stop(struct ms_loop *loop, struct ms_loop_signals *s)
{
    if (s->fd < 0)
        return;
    ms_loop_unwatch(loop, &s->watch);
    close(s->fd);
    s->fd = -1;
}

void ms_loop_fd_waiter_init(struct ms_loop_fd_waiter *w)
{
    *w = (struct ms_loop_fd_waiter){0};
}

size_t ms_loop_fd_waiters(const struct ms_loop *loop)
{
    return loop->fd_waiting;
}

void ms_loop_fd_wait_cancel(struct ms_loop *loop, struct ms_loop_fd_waiter *w)
{
    if (!w->queued)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        loop->fd_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        loop->fd_tail = w->prev;
    w->prev = w->next = NULL;
    w->queued = false;
    if (--loop->fd_waiting == 0)
        ms_loop_timer_cancel(loop, &loop->fd_timer);
}

/* Wake the waiters in order until one finds no descriptor again (it queued itself anew):
 * the ones after it would fail as well, and wait for the next release. */
static void on_fd_timer(void *arg)
{
    struct ms_loop *loop = arg;
    for (size_t n = loop->fd_waiting; n > 0 && loop->fd_head; n--) {
        struct ms_loop_fd_waiter *w = loop->fd_head;
        ms_loop_fd_wait_cancel(loop, w);
        w->cb(w->arg);
        if (w->queued)
            break;
    }
    if (loop->fd_waiting > 0 && !ms_loop_timer_armed(&loop->fd_timer))
        ms_loop_timer_set(loop, &loop->fd_timer, MS_LOOP_FD_RETRY, on_fd_timer, loop);
}

void ms_loop_fd_wait(struct ms_loop *loop, struct ms_loop_fd_waiter *w, ms_loop_timer_cb cb,
                     void *arg)
{
    w->cb = cb;
    w->arg = arg;
    if (w->queued)
        return;
    w->queued = true;
    w->next = NULL;
    w->prev = loop->fd_tail;
    if (loop->fd_tail)
        loop->fd_tail->next = w;
    else
        loop->fd_head = w;
    loop->fd_tail = w;
    loop->fd_waiting++;
    if (!ms_loop_timer_armed(&loop->fd_timer))
        ms_loop_timer_set(loop, &loop->fd_timer, MS_LOOP_FD_RETRY, on_fd_timer, loop);
}

void ms_loop_fds_released(struct ms_loop *loop)
{
    if (loop->fd_waiting > 0 &&
        (!ms_loop_timer_armed(&loop->fd_timer) || loop->fd_timer.when > ms_loop_now()))
        ms_loop_timer_set(loop, &loop->fd_timer, 0, on_fd_timer, loop);
}
