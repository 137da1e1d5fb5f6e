/* JACK process callback for devices.jack_midi's clients, in C: the real-time thread never
 * needs Python's GIL. Compiled by devices/jack_midi_ring.py (cffi, API mode); the few
 * libjack prototypes it needs are declared there (no JACK headers needed), and the
 * module links to libjack.so.0.
 *
 * One ring_host per JACK client carries up to RING_MAX_PORTS ring_ports in slots. Python
 * fills a slot (atomic store) once the port is registered and empties it (atomic store)
 * before the port is unregistered; it frees a port only after two more cycles have
 * ended (so no cycle can still hold the pointer).
 *
 * Input port: every event of the cycle goes into the port's ring as a record
 *   {uint32 size, uint32 frame time (jack_last_frame_time + offset)} + bytes,
 * then one byte is written to the port's wake pipe (non-blocking) for the dispatcher.
 * A record that does not fit in the ring is counted in `lost` (never blocks).
 * Output port: records {uint32 size, uint32 due frame} + bytes written by Python; the
 * callback writes whole events while they fit in the period's buffer. An event larger than
 * an empty buffer goes in pieces (a long SysEx); the rest waits for the next cycle.
 * A record whose size has TIMED_FLAG set is written at its due frame (JACK frame time): it
 * waits in the ring until the cycle that holds that frame and goes in at that offset (never
 * before an event already in the buffer; a due frame already past goes in at once). So a
 * sender books the wire ahead (devices.wire) and the bytes leave at the pace of the wire
 * whenever the sending thread wakes. A record without the flag goes out in the next cycle.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libjack's types and prototypes this file uses (jack/types.h, midiport.h, ringbuffer.h;
 * declared here: the machine may have libjack.so.0 without its headers) */
typedef uint32_t jack_nframes_t;
typedef unsigned char jack_midi_data_t;
typedef struct {
    jack_nframes_t time;
    size_t size;
    jack_midi_data_t *buffer;
} jack_midi_event_t;
typedef struct {
    char *buf;
    size_t len;
} jack_ringbuffer_data_t;
typedef struct jack_ringbuffer jack_ringbuffer_t;  /* opaque: only its functions are used */

extern int jack_set_process_callback(void *client, int (*cb)(jack_nframes_t, void *), void *arg);
extern jack_nframes_t jack_last_frame_time(const void *client);
extern uint64_t jack_get_time(void);
extern jack_nframes_t jack_time_to_frames(const void *client, uint64_t usecs);
extern void *jack_port_get_buffer(void *port, jack_nframes_t frames);
extern uint32_t jack_midi_get_event_count(void *buf);
extern int jack_midi_event_get(jack_midi_event_t *event, void *buf, uint32_t index);
extern void jack_midi_clear_buffer(void *buf);
extern size_t jack_midi_max_event_size(void *buf);
extern jack_midi_data_t *jack_midi_event_reserve(void *buf, jack_nframes_t time, size_t size);
extern jack_ringbuffer_t *jack_ringbuffer_create(size_t size);
extern void jack_ringbuffer_free(jack_ringbuffer_t *rb);
extern size_t jack_ringbuffer_read_space(const jack_ringbuffer_t *rb);
extern size_t jack_ringbuffer_write_space(const jack_ringbuffer_t *rb);
extern size_t jack_ringbuffer_read(jack_ringbuffer_t *rb, char *dest, size_t cnt);
extern size_t jack_ringbuffer_peek(jack_ringbuffer_t *rb, char *dest, size_t cnt);
extern size_t jack_ringbuffer_write(jack_ringbuffer_t *rb, const char *src, size_t cnt);
extern void jack_ringbuffer_get_write_vector(const jack_ringbuffer_t *rb, jack_ringbuffer_data_t *vec);
extern void jack_ringbuffer_write_advance(jack_ringbuffer_t *rb, size_t cnt);

#define RING_MAX_PORTS 512
#define TIMED_FLAG 0x80000000u

struct ring_port {
    void *port;               /* jack_port_t* */
    int is_input;
    int wake_fd;              /* input: write end of the dispatcher's pipe (non-blocking) */
    jack_ringbuffer_t *ring;
    uint32_t remaining;       /* output: bytes of the current record not yet written */
    uint32_t lost;            /* input: events dropped because the ring was full */
    uint64_t done;            /* output: records written to JACK completely */
    jack_nframes_t at;        /* output: the current record's offset in this cycle */
};

struct ring_host {
    void *client;             /* jack_client_t* */
    uint32_t max_events, max_bytes;   /* per output port and cycle */
    uint32_t count;           /* slots in use: 0..count-1 */
    uint64_t cycles;          /* process cycles ended */
    struct ring_port *slots[RING_MAX_PORTS];
};

static int ring_process(jack_nframes_t frames, void *arg)
{
    struct ring_host *host = (struct ring_host *)arg;
    uint32_t count = __atomic_load_n(&host->count, __ATOMIC_ACQUIRE);
    jack_nframes_t now = jack_last_frame_time(host->client);
    uint32_t s;
    for (s = 0; s < count && s < RING_MAX_PORTS; s++) {
        struct ring_port *p = __atomic_load_n(&host->slots[s], __ATOMIC_ACQUIRE);
        if (p == NULL)
            continue;
        void *buf = jack_port_get_buffer(p->port, frames);
        if (buf == NULL)
            continue;
        if (p->is_input) {
            uint32_t n = jack_midi_get_event_count(buf), i, moved = 0;
            jack_midi_event_t ev;
            for (i = 0; i < n; i++) {
                if (jack_midi_event_get(&ev, buf, i) != 0)
                    continue;
                uint32_t head[2] = {(uint32_t)ev.size, now + ev.time};
                if (jack_ringbuffer_write_space(p->ring) < sizeof head + ev.size) {
                    p->lost++;
                    continue;
                }
                /* the reader takes a record only once header and bytes are readable */
                jack_ringbuffer_write(p->ring, (const char *)head, sizeof head);
                jack_ringbuffer_write(p->ring, (const char *)ev.buffer, ev.size);
                moved++;
            }
            if (moved && p->wake_fd >= 0) {
                char one = 1;
                ssize_t ignored = write(p->wake_fd, &one, 1); /* full pipe: already awake */
                (void)ignored;
            }
        } else {
            uint32_t events = 0, written = 0;
            jack_nframes_t floor = 0;     /* events go in at non-decreasing offsets */
            jack_midi_clear_buffer(buf);
            if (p->remaining)
                p->at = 0;                /* the rest of a record begun in an earlier cycle */
            while (events < host->max_events && written < host->max_bytes) {
                if (p->remaining == 0) {
                    uint32_t head[2];
                    if (jack_ringbuffer_read_space(p->ring) < sizeof head)
                        break;
                    jack_ringbuffer_peek(p->ring, (char *)head, sizeof head);
                    p->at = floor;
                    if (head[0] & TIMED_FLAG) {
                        int32_t ahead = (int32_t)(head[1] - now);   /* frame times wrap */
                        if (ahead >= (int32_t)frames)
                            break;        /* due in a later cycle: it and all after it wait */
                        if (ahead > (int32_t)floor)
                            p->at = (jack_nframes_t)ahead;
                    }
                    jack_ringbuffer_read(p->ring, (char *)head, sizeof head);
                    p->remaining = head[0] & ~TIMED_FLAG;
                    if (p->remaining == 0) {
                        __atomic_add_fetch(&p->done, 1, __ATOMIC_RELEASE);
                        continue;
                    }
                }
                size_t room = jack_midi_max_event_size(buf);
                uint32_t take = p->remaining;
                if (take > room) {
                    if (events || room < 2)
                        break;       /* waits for the next cycle's empty buffer */
                    take = (uint32_t)room;  /* larger than a whole buffer: in pieces */
                }
                unsigned char *dst = jack_midi_event_reserve(buf, p->at, take);
                if (dst == NULL)
                    break;
                jack_ringbuffer_read(p->ring, (char *)dst, take);
                floor = p->at;
                p->remaining -= take;
                events++;
                written += take;
                if (p->remaining)
                    break;
                __atomic_add_fetch(&p->done, 1, __ATOMIC_RELEASE);
            }
        }
    }
    __atomic_add_fetch(&host->cycles, 1, __ATOMIC_RELEASE);
    return 0;
}

static struct ring_host *ring_host_new(void *client, uint32_t max_events, uint32_t max_bytes)
{
    struct ring_host *host = calloc(1, sizeof *host);
    if (host == NULL)
        return NULL;
    host->client = client;
    host->max_events = max_events;
    host->max_bytes = max_bytes;
    return host;
}

static int ring_host_install(struct ring_host *host)
{
    return jack_set_process_callback(host->client, ring_process, host);
}

static uint64_t ring_host_cycles(struct ring_host *host)
{
    return __atomic_load_n(&host->cycles, __ATOMIC_ACQUIRE);
}

static void ring_host_set_slot(struct ring_host *host, uint32_t slot, struct ring_port *port)
{
    __atomic_store_n(&host->slots[slot], port, __ATOMIC_RELEASE);
    if (port != NULL && slot + 1 > __atomic_load_n(&host->count, __ATOMIC_ACQUIRE))
        __atomic_store_n(&host->count, slot + 1, __ATOMIC_RELEASE);
}

static struct ring_port *ring_port_new(void *port, int is_input, size_t ring_bytes, int wake_fd)
{
    struct ring_port *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->ring = jack_ringbuffer_create(ring_bytes);
    if (p->ring == NULL) {
        free(p);
        return NULL;
    }
    p->port = port;
    p->is_input = is_input;
    p->wake_fd = wake_fd;
    return p;
}

static void ring_port_free(struct ring_port *p)
{
    jack_ringbuffer_free(p->ring);
    free(p);
}

/* Python side of an output: one record (header and bytes in one go); 0 if no room yet.
 * timed: write it at JACK frame `due` (see the top of this file); else in the next cycle. */
static int ring_port_push(struct ring_port *p, const unsigned char *data, uint32_t size, int timed,
                          uint32_t due)
{
    uint32_t head[2] = {timed ? (size | TIMED_FLAG) : size, timed ? due : 0};
    jack_ringbuffer_data_t vec[2];
    size_t need = sizeof head + size, done = 0, k;
    if (jack_ringbuffer_write_space(p->ring) < need)
        return 0;
    /* copy into the free space, then publish with one write_advance: the process
     * thread never sees a header without its bytes */
    jack_ringbuffer_get_write_vector(p->ring, vec);
    const unsigned char *parts[2] = {(const unsigned char *)head, data};
    size_t sizes[2] = {sizeof head, size};
    size_t v = 0, voff = 0;
    for (k = 0; k < 2; k++) {
        size_t left = sizes[k], off = 0;
        while (left) {
            size_t n = vec[v].len - voff < left ? vec[v].len - voff : left;
            memcpy(vec[v].buf + voff, parts[k] + off, n);
            voff += n; off += n; left -= n; done += n;
            if (voff == vec[v].len) { v++; voff = 0; }
        }
    }
    jack_ringbuffer_write_advance(p->ring, done);
    return 1;
}

/* Bytes not yet written to JACK (queued records and the rest of a half-written one). */
static size_t ring_port_pending(struct ring_port *p)
{
    return jack_ringbuffer_read_space(p->ring) + __atomic_load_n(&p->remaining, __ATOMIC_ACQUIRE);
}

/* Python side of an input: whole records into out (at most cap bytes); bytes copied. */
static size_t ring_port_pull(struct ring_port *p, unsigned char *out, size_t cap)
{
    size_t got = 0;
    for (;;) {
        uint32_t head[2];
        size_t avail = jack_ringbuffer_read_space(p->ring);
        if (avail < sizeof head)
            break;
        jack_ringbuffer_peek(p->ring, (char *)head, sizeof head);
        size_t need = sizeof head + head[0];
        if (avail < need || got + need > cap)
            break;
        jack_ringbuffer_read(p->ring, (char *)out + got, need);
        got += need;
    }
    return got;
}

static uint64_t ring_port_done(struct ring_port *p)
{
    return __atomic_load_n(&p->done, __ATOMIC_ACQUIRE);
}

static uint32_t ring_port_lost(struct ring_port *p)
{
    return __atomic_load_n(&p->lost, __ATOMIC_ACQUIRE);
}

static void ring_host_free(struct ring_host *host)
{
    free(host);
}

/* The JACK frame time of a moment `when_s` on CLOCK_MONOTONIC (Python's time.monotonic()),
 * by the server's own estimate of its clock (jack_time_to_frames); both clocks are read here,
 * one after the other, so no thread switch comes between them. JACK's microsecond clock has
 * its own origin; only the difference between the two readings is used. Needs an open client
 * (libjack sets its clock up when the first client opens). */
static uint32_t ring_frame_at(void *client, double when_s)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t jack_now_us = jack_get_time();
    double now_s = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    double target_us = (double)jack_now_us + (when_s - now_s) * 1e6;
    if (target_us < 0)
        target_us = 0;
    return jack_time_to_frames(client, (uint64_t)target_us);
}
