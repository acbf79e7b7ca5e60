/*
 * tools/check.h: "xfedctl check", the deployment doctor. Each part checks
 * one thing as a remote server would see it and reports through
 * chk_report(): DNS (check_dns.c), the certificate (check_cert.c), a dial
 * to a domain through DNS, TCP, STARTTLS and dialback (check_dial.c). The
 * command, its options and the tally are cmd_check.c's.
 */
#ifndef CHECK_H
#define CHECK_H

#include "xfedctl.h"

enum chk_level {
	CHK_OK,
	CHK_WARN,
	CHK_FAIL,
};

struct chk {
	struct ctl	*ctl;
	struct out_json	 j;
	int		 n[3];		/* reports per level */
	int		 private_ok;	/* --private: a federation inside
					 * one network */
	const char	*from;		/* --peer: the hosted domain we
					 * speak for (the first) */
};

/*
 * One result: what was checked (section "dns", "cert", "dial"; subject a
 * domain, record or file), the reason in one line and, unless OK, what to
 * change (fix may be NULL).
 */
void	 chk_report(struct chk *, enum chk_level, const char *section,
	    const char *subject, const char *fix, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));

/* check_dns.c: the SRV records and addresses of domain; ours says whether
 * xfed must be what they lead to (a hosted domain) or it is a peer's. */
void	 check_dns(struct chk *, const char *domain, int ours);

/* check_cert.c: the certificate xfed presents for a hosted domain. */
void	 check_cert(struct chk *, const char *domain);

/* check_dial.c: connects to domain as a remote server does and goes as
 * far as dialback; self: a hosted domain, which must reach this xfed. */
void	 check_dial(struct chk *, const char *domain, int self);

#endif
