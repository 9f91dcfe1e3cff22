/* cli_main.c — the `ortc` command: dispatch to subcommands, --version and
 * help. Exit codes: 0 success, 1 model/input/runtime error, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ortc/ortc.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: ortc <command> [options]\n"
               "\n"
               "commands:\n"
               "  run MODEL IMAGE...            classify images (top 5 per image)\n"
               "  run MODEL --input NAME=FILE   run on .npy / .pb tensors\n"
               "  info MODEL                    model summary, operators, memory plan\n"
               "  info MODEL --plan-svg F --graph F.dot|.svg   pictures of the plan and graph\n"
               "  info --ops                    the operators ortc implements\n"
               "  test PATH...                  run ONNX backend tests (conformance)\n"
               "  bench MODEL                   latency, throughput, memory, per-node profile\n"
               "  quantize MODEL -o OUT --calibrate PATH...   int8 QDQ model (post-training)\n"
               "  help                          this text\n"
               "  --version                     print the version\n"
               "\n"
               "ortc <command> --help shows a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("ortc %s\n", ORTC_VERSION_STRING);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cli_run(argc, argv);
    if (!strcmp(cmd, "info"))
        return cli_info(argc, argv);
    if (!strcmp(cmd, "test"))
        return cli_test(argc, argv);
    if (!strcmp(cmd, "bench"))
        return cli_bench(argc, argv);
    if (!strcmp(cmd, "quantize"))
        return cli_quantize(argc, argv);
    fprintf(stderr, "ortc: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
