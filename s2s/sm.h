/*
 * s2s/sm.h: XEP-0198 stream management bookkeeping for one S2S stream,
 * without sockets or XML: counting, what an <a/> may say and what it
 * releases. in.c and out.c send and parse the elements.
 *
 * Receiving side (struct sm_in): h counts the peer's stanzas handled since
 * its <enable/>, modulo 2^32 (XEP-0198 4). The h we answer covers only
 * stanzas whose effects are committed: each handled stanza carries the
 * number of the store batch its writes went to (0: it wrote nothing that
 * waits), and an <r/> is answered once every batch up to that stanza's is
 * settled; each commit that covers stanzas of the stream sends an <a/>
 * unasked, so a sender's unacknowledged rows stay within one commit
 * window. Batch numbers only grow, and batches settle in order.
 *
 * Sending side (struct sm_out): the stanzas written since our <enable/>,
 * oldest first, as outbox ids (0 for a stanza xfed made itself); an <a/>
 * releases those its h covers, in order; <r/> goes out every
 * SM_REQUEST_EVERY stanzas and when the output drains; what is still
 * unacknowledged when the stream dies goes back to the caller to resend
 * (no resumption: S2S 7.6, 7.7).
 */
#ifndef S2S_SM_H
#define S2S_SM_H

#include <stddef.h>
#include <stdint.h>

#define NS_SM			"urn:xmpp:sm:3"
#define SM_REQUEST_EVERY	256	/* stanzas between <r/> when busy */
#define SM_IN_BATCHES		8	/* open batches told apart per stream */
#define SM_OUT_MAX		65536	/* unacknowledged stanzas per stream */

struct sm_batch {
	uint64_t	 batch;		/* store batch number */
	uint32_t	 h;		/* handled count after its last stanza */
};

struct sm_in {
	int		 enabled;
	int		 asked;		/* an <r/> waits for a commit */
	uint32_t	 handled;	/* stanzas handled, mod 2^32 */
	uint32_t	 covered;	/* of which settled: the h we may send */
	struct sm_batch	*open;	/* SM_IN_BATCHES once enabled, oldest first */
	int		 nopen;
};

void	 sm_in_init(struct sm_in *);
/* What enabling allocated (a stream that never enables holds nothing). */
void	 sm_in_free(struct sm_in *);
/* <enable/>: 0, or -1 when it is enabled already (S2S 7.5). */
int	 sm_in_enable(struct sm_in *);
/* One stanza handled; its writes are in batch (0: none wait). */
void	 sm_in_handled(struct sm_in *, uint64_t batch);
/* <r/>: 1 with *h to answer now, or 0: the answer waits for a batch. */
int	 sm_in_request(struct sm_in *, uint32_t *h);
/*
 * Every batch up to and including batch is settled (committed, or its
 * stanzas answered with errors): 1 with *h when that covered stanzas of
 * this stream, to be acknowledged now, asked for (<r/>) or not.
 */
int	 sm_in_settled(struct sm_in *, uint64_t batch, uint32_t *h);

struct sm_out {
	int		 enabled;
	int		 awaiting;	/* our <r/> is out, no <a/> yet */
	uint32_t	 sent;		/* stanzas sent since <enable/> */
	uint32_t	 acked;		/* the peer's last h */
	uint32_t	 requested;	/* sent when our last <r/> went */
	int64_t		*ring;		/* unacknowledged, oldest at head */
	size_t		 cap, head, n;
};

void	 sm_out_init(struct sm_out *);
void	 sm_out_free(struct sm_out *);
/* 1 when SM_OUT_MAX stanzas wait for an ack: write no more for now. */
int	 sm_out_full(const struct sm_out *);
/* A stanza was written; id is its outbox id, 0 for one of xfed's own. */
void	 sm_out_sent(struct sm_out *, int64_t id);
/*
 * 1 when an <r/> should go now (and counts it as sent): none is out and
 * stanzas were sent since the last one, SM_REQUEST_EVERY of them, or any
 * once drained (the output is empty, or an <a/> just came).
 */
int	 sm_out_want_request(struct sm_out *, int drained);
/*
 * The peer's <a h='...'/>: calls cb for each outbox id it covers, oldest
 * first, and returns how many stanzas it released. On a bad h nothing is
 * released, *cond is the stream error condition and text (of size
 * textlen) says why: SM_ACK_TOO_HIGH when h acknowledges more than was
 * sent (XEP-0198 4: undefined-condition with <handled-count-too-high/>),
 * -1 when h is not a number (bad-format) or goes back below the last h
 * (undefined-condition).
 */
#define SM_ACK_TOO_HIGH	(-2)
long	 sm_out_ack(struct sm_out *, const char *h,
	    void (*cb)(void *, int64_t), void *arg, const char **cond,
	    char *text, size_t textlen);
/* Stanzas sent and not acknowledged. */
size_t	 sm_out_unacked(const struct sm_out *);
/*
 * The stream is gone: calls cb for each unacknowledged outbox id, oldest
 * first, forgets them and returns how many of xfed's own were dropped.
 */
size_t	 sm_out_take(struct sm_out *, void (*cb)(void *, int64_t), void *arg);

/*
 * The number an h attribute holds (XEP-0198 4, xs:unsignedInt as written
 * by every implementation): 0, or -1 unless ASCII digits without a sign,
 * spaces or leading zeros ("0" itself is fine) for 0..2^32-1.
 */
int	 sm_parse_h(const char *, uint32_t *);

#endif
