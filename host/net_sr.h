/* net_sr.h — the builders of the super-resolution generators (net_sr.c),
 * listed in the architecture table of net_load.c. Each reads its
 * hyper-parameters from the file's metadata, checks every tensor against the
 * shape weights/README.md gives, and sets net->scale and net->output_range. */
#ifndef HS_NET_SR_H
#define HS_NET_SR_H

#include "net.h"

hs_status hs_build_rrdn(hs_net_builder *b);     /* esrgan-thick (idealo RRDN) */
hs_status hs_build_rdn(hs_net_builder *b);      /* esrgan-medium, esrgan-slim (idealo RDN) */
hs_status hs_build_srresnet(hs_net_builder *b); /* SRGAN generator */
hs_status hs_build_rrdbnet(hs_net_builder *b);  /* ESRGAN / Real-ESRGAN RRDBNet */
hs_status hs_build_srvgg(hs_net_builder *b);    /* Real-ESRGAN SRVGGNetCompact */

#endif
