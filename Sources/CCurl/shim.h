#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H
/* Typed wrappers around libcurl's variadic calls, which Swift cannot call directly. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

static inline CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_write_function(CURL *h, curl_write_callback cb) { return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cb); }
static inline CURLcode ccurl_setopt_header_function(CURL *h, curl_write_callback cb) { return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, cb); }
static inline CURLcode ccurl_getinfo_long(CURL *h, CURLINFO i, long *out) { return curl_easy_getinfo(h, i, out); }
static inline CURLcode ccurl_getinfo_off_t(CURL *h, CURLINFO i, curl_off_t *out) { return curl_easy_getinfo(h, i, out); }
static inline CURLcode ccurl_getinfo_double(CURL *h, CURLINFO i, double *out) { return curl_easy_getinfo(h, i, out); }
static inline CURLcode ccurl_getinfo_string(CURL *h, CURLINFO i, char **out) { return curl_easy_getinfo(h, i, out); }
static inline CURLcode ccurl_getinfo_pointer(CURL *h, CURLINFO i, void **out) { return curl_easy_getinfo(h, i, out); }
static inline CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline curl_version_info_data *ccurl_version_info(void) { return curl_version_info(CURLVERSION_NOW); }

/* Callbacks of the socket-action interface (CurlMultiLoop) and the pre-request stamp. */
static inline CURLMcode ccurl_multi_setopt_pointer(CURLM *m, CURLMoption o, void *v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode ccurl_multi_setopt_socket_function(CURLM *m, curl_socket_callback cb) { return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, cb); }
static inline CURLMcode ccurl_multi_setopt_timer_function(CURLM *m, curl_multi_timer_callback cb) { return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, cb); }
static inline CURLcode ccurl_setopt_prereq_function(CURL *h, curl_prereq_callback cb) { return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, cb); }
static const curl_socket_t ccurl_socket_timeout = CURL_SOCKET_TIMEOUT;

/* The curl loop's readiness poller: epoll on Linux, poll(2) elsewhere, with a wake-up
   descriptor any thread may signal. Events are CURL_CSELECT_IN/OUT/ERR bits; interest is
   CURL_POLL_IN/OUT/INOUT. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
typedef struct ccurl_poller { int epfd; int wakefd; } ccurl_poller;

static inline ccurl_poller *ccurl_poller_create(void) {
    ccurl_poller *p = (ccurl_poller *)calloc(1, sizeof(ccurl_poller));
    if (!p) return NULL;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.fd = p->wakefd;
    if (p->epfd < 0 || p->wakefd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &ev) != 0) {
        if (p->epfd >= 0) close(p->epfd);
        if (p->wakefd >= 0) close(p->wakefd);
        free(p);
        return NULL;
    }
    return p;
}

static inline void ccurl_poller_destroy(ccurl_poller *p) {
    close(p->epfd);
    close(p->wakefd);
    free(p);
}

static inline void ccurl_poller_wake(ccurl_poller *p) {
    uint64_t one = 1;
    ssize_t r = write(p->wakefd, &one, sizeof one);
    (void)r; /* EAGAIN: the counter is already non-zero, the loop will wake */
}

/* known: the socket was registered before (libcurl hands back the pointer assigned to it with
   curl_multi_assign), so one epoll_ctl call does; a wrong guess costs a second call. */
static inline int ccurl_poller_set(ccurl_poller *p, int fd, int what, int known) {
    struct epoll_event ev = {0};
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    ev.data.fd = fd;
    int first = known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(p->epfd, first, fd, &ev) == 0) return 0;
    if (errno != (known ? ENOENT : EEXIST)) return -1;
    return epoll_ctl(p->epfd, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

static inline void ccurl_poller_remove(ccurl_poller *p, int fd) {
    struct epoll_event ev = {0};
    (void)epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, &ev);
}

/* Waits up to timeout_ms (-1: forever) and fills fds/events with up to max ready sockets;
   returns their count (-1 on error other than EINTR). *woken is set when the wake-up
   descriptor fired (it is drained here and not reported in fds). */
static inline int ccurl_poller_wait(ccurl_poller *p, int *fds, int *events, int max, int timeout_ms, int *woken) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    *woken = 0;
    int n = epoll_wait(p->epfd, evs, max, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    int out = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.fd == p->wakefd) {
            uint64_t count;
            ssize_t r = read(p->wakefd, &count, sizeof count);
            (void)r;
            *woken = 1;
            continue;
        }
        uint32_t e = evs[i].events;
        fds[out] = evs[i].data.fd;
        events[out] = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0)
            | ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
        out++;
    }
    return out;
}
#else
#include <fcntl.h>
#include <poll.h>
typedef struct ccurl_poller { int wake_read; int wake_write; struct pollfd *fds; int count; int capacity; } ccurl_poller;

static inline ccurl_poller *ccurl_poller_create(void) {
    ccurl_poller *p = (ccurl_poller *)calloc(1, sizeof(ccurl_poller));
    int pipefd[2];
    if (!p) return NULL;
    if (pipe(pipefd) != 0) {
        free(p);
        return NULL;
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
    fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
    fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
    p->wake_read = pipefd[0];
    p->wake_write = pipefd[1];
    p->capacity = 64;
    p->fds = (struct pollfd *)calloc((size_t)p->capacity, sizeof(struct pollfd));
    if (!p->fds) {
        close(pipefd[0]);
        close(pipefd[1]);
        free(p);
        return NULL;
    }
    p->fds[0].fd = p->wake_read;
    p->fds[0].events = POLLIN;
    p->count = 1;
    return p;
}

static inline void ccurl_poller_destroy(ccurl_poller *p) {
    close(p->wake_read);
    close(p->wake_write);
    free(p->fds);
    free(p);
}

static inline void ccurl_poller_wake(ccurl_poller *p) {
    char one = 1;
    ssize_t r = write(p->wake_write, &one, 1);
    (void)r;
}

static inline int ccurl_poller_set(ccurl_poller *p, int fd, int what, int known) {
    (void)known;
    short events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    for (int i = 1; i < p->count; i++) {
        if (p->fds[i].fd == fd) {
            p->fds[i].events = events;
            return 0;
        }
    }
    if (p->count == p->capacity) {
        struct pollfd *grown = (struct pollfd *)realloc(p->fds, sizeof(struct pollfd) * (size_t)p->capacity * 2);
        if (!grown) return -1;
        p->fds = grown;
        p->capacity *= 2;
    }
    p->fds[p->count].fd = fd;
    p->fds[p->count].events = events;
    p->fds[p->count].revents = 0;
    p->count++;
    return 0;
}

static inline void ccurl_poller_remove(ccurl_poller *p, int fd) {
    for (int i = 1; i < p->count; i++) {
        if (p->fds[i].fd == fd) {
            p->fds[i] = p->fds[p->count - 1];
            p->count--;
            return;
        }
    }
}

static inline int ccurl_poller_wait(ccurl_poller *p, int *fds, int *events, int max, int timeout_ms, int *woken) {
    *woken = 0;
    int n = poll(p->fds, (nfds_t)p->count, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    int out = 0;
    if (p->fds[0].revents) {
        char buf[64];
        while (read(p->wake_read, buf, sizeof buf) > 0) {}
        *woken = 1;
    }
    for (int i = 1; i < p->count && out < max; i++) {
        short e = p->fds[i].revents;
        if (!e) continue;
        fds[out] = p->fds[i].fd;
        events[out] = ((e & POLLIN) ? CURL_CSELECT_IN : 0) | ((e & POLLOUT) ? CURL_CSELECT_OUT : 0)
            | ((e & (POLLERR | POLLHUP | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
        out++;
    }
    return out;
}
#endif
#endif
