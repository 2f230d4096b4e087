/*
 * libcurl's multi interface inside an OVS poll loop: the sockets and the
 * timeout libcurl asks for become poll_fd_wait() and poll_timer_wait()
 * calls.  Transfers are added to 'multi' and run with curl_loop_run().
 */
#ifndef TENDRIL_AGENT_CURL_LOOP_H
#define TENDRIL_AGENT_CURL_LOOP_H 1

#include <curl/curl.h>
#include <stddef.h>

struct curl_loop {
    CURLM *multi;
    long long int timer;        /* From CURLMOPT_TIMERFUNCTION; LLONG_MAX:
                                 * none. */
    struct curl_loop_socket *sockets;
    size_t n_sockets, allocated_sockets;
};

void curl_loop_init(struct curl_loop *);
void curl_loop_destroy(struct curl_loop *);
void curl_loop_run(struct curl_loop *, int *running);
void curl_loop_wait(const struct curl_loop *);

#endif /* agent/curl-loop.h */
