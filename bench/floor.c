// The floor of bench/forward-floor.mjs in C: what a server without a runtime costs for the
// latency scenarios, beside the Node floor (the same work on Node's TCP handles). One thread,
// epoll, TCP_NODELAY like the Node floor. CONNECT gets a CONNACK, SUBSCRIBE (one exact topic) a
// SUBACK with the QoS asked for, and each PUBLISH's bytes go unparsed to the subscriber of its
// topic; at QoS 1 the publisher gets a PUBACK with its packet id, and the subscribers' PUBACKs
// are read and ignored. A bench tool only (npm run bench -- --brokers floor-c), built by the
// bench with the system's C compiler: cc -O2 -o floor-c bench/floor.c. Run: floor-c PORT

#define _GNU_SOURCE // accept4
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 4096
#define MAX_SUBS 1024
#define HELD 65536

/** Bytes of a connection's packet cut between reads. */
static unsigned char *held[MAX_FD];
static size_t held_len[MAX_FD];
/** Exact topic -> subscriber socket. */
static char *sub_topic[MAX_SUBS];
static size_t sub_topic_len[MAX_SUBS];
static int sub_fd[MAX_SUBS];
static int subs;

/** Writes all of it: the load reads all the time, so waiting for room is rare and short. */
static void write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
    } else if (w < 0 && errno == EAGAIN) {
      struct pollfd pfd = {fd, POLLOUT, 0};
      if (poll(&pfd, 1, 1000) <= 0) return;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else {
      return;
    }
  }
}

static void drop(int fd) {
  for (int i = 0; i < subs; i++) {
    if (sub_fd[i] == fd) sub_fd[i] = -1;
  }
  free(held[fd]);
  held[fd] = NULL;
  held_len[fd] = 0;
  close(fd);
}

/** Handles the whole packets in in[0..n); returns how many bytes they took. */
static size_t handle(int fd, const unsigned char *in, size_t n) {
  size_t at = 0;
  while (at + 2 <= n) {
    size_t length = 0;
    int shift = 0;
    size_t i = at + 1;
    for (; i < n && i < at + 5; i++) {
      length += (size_t)(in[i] & 127) << shift;
      shift += 7;
      if ((in[i] & 128) == 0) break;
    }
    size_t body = i + 1;
    if (i >= n || body + length > n) break;
    int type = in[at] >> 4;
    if (type == 1) {
      static const unsigned char connack[] = {0x20, 2, 0, 0};
      write_all(fd, connack, sizeof connack);
    } else if (type == 8 && length >= 5) {
      size_t len = ((size_t)in[body + 2] << 8) | in[body + 3];
      if (subs < MAX_SUBS && body + 4 + len < body + length) {
        sub_topic[subs] = malloc(len);
        memcpy(sub_topic[subs], in + body + 4, len);
        sub_topic_len[subs] = len;
        sub_fd[subs] = fd;
        subs++;
        unsigned char suback[] = {0x90, 3, in[body], in[body + 1], (unsigned char)(in[body + 4 + len] & 3)};
        write_all(fd, suback, sizeof suback);
      }
    } else if (type == 3 && length >= 2) {
      size_t len = ((size_t)in[body] << 8) | in[body + 1];
      const unsigned char *topic = in + body + 2;
      for (int s = 0; s < subs; s++) {
        if (sub_fd[s] >= 0 && sub_topic_len[s] == len && memcmp(sub_topic[s], topic, len) == 0) {
          write_all(sub_fd[s], in + at, body + length - at);
          break;
        }
      }
      if ((in[at] & 6) == 2) {
        unsigned char puback[] = {0x40, 2, topic[len], topic[len + 1]};
        write_all(fd, puback, sizeof puback);
      }
    }
    at = body + length;
  }
  return at;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: floor-c PORT\n");
    return 2;
  }
  int server = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(server, 511) != 0) {
    perror("floor-c: bind/listen");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = server};
  epoll_ctl(ep, EPOLL_CTL_ADD, server, &ev);
  static unsigned char buf[HELD];
  struct epoll_event events[64];
  for (;;) {
    int ready = epoll_wait(ep, events, 64, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return 1;
    for (int e = 0; e < ready; e++) {
      int fd = events[e].data.fd;
      if (fd == server) {
        int client;
        while ((client = accept4(server, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (client >= MAX_FD) {
            close(client);
            continue;
          }
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = client};
          epoll_ctl(ep, EPOLL_CTL_ADD, client, &cev);
        }
        continue;
      }
      // Input after any held part of a packet, in the one read buffer.
      size_t have = held_len[fd];
      if (have > 0) memcpy(buf, held[fd], have);
      ssize_t r = read(fd, buf + have, sizeof buf - have);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        drop(fd);
        continue;
      }
      if (r < 0) continue;
      size_t n = have + (size_t)r;
      size_t used = handle(fd, buf, n);
      held_len[fd] = n - used;
      if (held_len[fd] > 0) {
        if (held[fd] == NULL) held[fd] = malloc(HELD);
        memmove(held[fd], buf + used, held_len[fd]);
      }
    }
  }
}
