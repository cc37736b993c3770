/* peer: a wire-level stand-in for the emulator's invoke face, for tests of the fake SDK. */
#ifndef ZONE_TEST_PEER_H
#define ZONE_TEST_PEER_H

#include "wire.h"

/*
 * How the peer answers. Every mode first verifies and records the request (peer_calls or
 * peer_refused). PEER_HTTP_502, PEER_EMPTY_200 and PEER_RESET then answer so whatever the
 * outcome; in the other modes a refused request gets the exception reply (sealed with the right
 * keys, plus ww-exception and ww-error), and PEER_SLOW sleeps before either answer.
 */
typedef enum peer_mode {
    PEER_ANSWER,        /* verify, record, answer with the configured response */
    PEER_HTTP_502,      /* record, answer HTTP 502 with a short text body */
    PEER_EMPTY_200,     /* record, answer HTTP 200 with an empty body and no ww-* headers */
    PEER_WRONG_KEY,     /* record, seal the reply with another secret, same version (bad HMAC) */
    PEER_BAD_CIPHER,    /* record, signed body = base64 of 40 random bytes (not GCM ciphertext) */
    PEER_OTHER_VERSION, /* record, seal the reply with the right secret but version+1 */
    PEER_NOT_ENVELOPE,  /* record, seal plaintext "[1,2]" instead of a reply envelope */
    PEER_RESET,         /* close the connection without any answer (MHD_NO from the handler) */
    PEER_SLOW           /* sleep peer->delay_ms before answering as PEER_ANSWER */
} peer_mode;

typedef struct peer peer;

/*
 * Starts a peer holding secret_b64 (base64 of 32 bytes) at version on 127.0.0.1, an ephemeral
 * port, one thread per connection; mode PEER_ANSWER. NULL on failure.
 */
peer *peer_start(const char *secret_b64, uint32_t version);
/* The port the peer listens on (0 for NULL). */
unsigned short peer_port(const peer *p);
/* Sets how later requests are answered. */
void peer_set_mode(peer *p, peer_mode m);
/* Sets the delay of PEER_SLOW, in milliseconds. */
void peer_set_delay_ms(peer *p, unsigned ms);
/* Sets the reply's response text (copied; default "{\"errcode\":0,\"errmsg\":\"ok\"}"). */
void peer_set_response(peer *p, const char *response);
/* Number of requests that verified and decoded as invoke envelopes. */
size_t peer_calls(peer *p);
/* Number of requests that failed verification (zone_wire_open, or not an invoke envelope). */
size_t peer_refused(peer *p);
/*
 * Deep copy of the last verified invoke envelope into *out (caller does
 * zone_wire_invoke_cleanup); 0, or -1 (out zeroed) if there is none or memory ran out.
 */
int peer_last_call(peer *p, zone_wire_invoke *out);
/*
 * The zone_wire_open result (ZONE_WIRE_ERR_JSON when it opened but is not an invoke envelope)
 * of the last refused request, with its detail sentence in detail (n bytes, may be NULL);
 * -1 if none.
 */
int peer_last_refusal(peer *p, char *detail, size_t n);
/* Stops the daemon (waits for its threads) and frees everything; accepts NULL. */
void peer_stop(peer *p);

#endif
