/* tests/fuzz/conf_fuzz.c: the config parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"

static void
conf_fuzz_quiet(const char *line)
{
	(void)line;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct conf	*c;

	c = conf_parse("/fuzz/xfed.conf", (const char *)data, len,
	    conf_fuzz_quiet);
	conf_free(c);
	return 0;
}
