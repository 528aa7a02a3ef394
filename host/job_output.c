/* job_output.c — see job.h. */
#include "job.h"

#include <stdio.h>
#include <string.h>

void hs_job_command_line(int argc, char **argv, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "hirestyle");
    for (int i = 0; argv && i < argc && used < size; i++) {
        const char *quote = strpbrk(argv[i], " \t'\"") ? "'" : "";
        used += (size_t)snprintf(out + used, size - used, " %s%s%s", quote, argv[i], quote);
    }
}

hs_status hs_job_save(const char *path, const hs_image *img, const char *model, int argc,
                      char **argv, const hs_save_options *options)
{
    hs_save_options chosen = options ? *options : (hs_save_options){0};
    if (!chosen.format) chosen.format = hs_image_format_from_path(path);
    char command[4096];
    hs_job_command_line(argc, argv, command, sizeof command);
    const char *slash = strrchr(model, '/');
    const char *text[] = {"Software", "hirestyle 0.1.0", "hirestyle command", command,
                          "hirestyle model", slash ? slash + 1 : model, NULL};
    if (chosen.format == HS_FORMAT_PNG) chosen.text = text;
    return hs_image_save(path, img, &chosen);
}

void hs_job_output_with(const char *output, const char *suffix, char *path, size_t size)
{
    const char *dot = strrchr(output, '.'), *slash = strrchr(output, '/');
    if (!dot || (slash && dot < slash)) dot = output + strlen(output);
    snprintf(path, size, "%.*s_%s%s", (int)(dot - output), output, suffix, dot);
}
