/* style_rate.c — how fast this device paints with a network, remembered
 * between runs so that the plan can say how long a painting will take.
 *
 * The rate is seconds per unit of hs_style_work (pixels through the network),
 * measured on the last finished scale of a run, and kept in the cache
 * directory under a name made of the network's architecture and the device
 * (platform, name, driver). A missing, unreadable or absurd entry is simply
 * no estimate.
 */
#include "engine.h"
#include "net.h"
#include "style.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void rate_name(const hs_net *net, char *name, size_t size)
{
    const hs_device_info *dev = hs_context_device(net->ctx);
    const char *parts[] = {dev->platform_name, dev->name, dev->driver_version};
    uint64_t key = HS_HASH_SEED;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        key = hs_hash(key, parts[i], strlen(parts[i]) + 1);
    snprintf(name, size, "style-rate-%s-%016llx.txt", net->arch, (unsigned long long)key);
}

double hs_style_rate_load(const hs_net *net)
{
    char name[96];
    rate_name(net, name, sizeof name);
    size_t len;
    char *text = (char *)hs_cache_read(name, 64, &len);
    if (!text) return 0;
    char *end;
    double rate = strtod(text, &end);
    int sane = end != text && isfinite(rate) && rate > 0 && rate < 1;
    free(text);
    return sane ? rate : 0;
}

void hs_style_rate_store(const hs_net *net, double seconds_per_work)
{
    if (!(seconds_per_work > 0 && seconds_per_work < 1)) return;
    char name[96], text[32];
    rate_name(net, name, sizeof name);
    int len = snprintf(text, sizeof text, "%.6g\n", seconds_per_work);
    hs_cache_write(name, text, (size_t)len);
}
