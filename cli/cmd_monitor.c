/*
 * cmd_monitor.c - `sipas monitor design`: the low-satisfaction CUSUM's
 * design for a target, printed with the run lengths that justify it
 * (docs/monitoring.md, "The statistics", quotes its output).
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../monitor/cusum.h"

const char cmd_monitor_usage[] =
	"usage: sipas monitor design [--target T] [--odds-ratio R] [--run-length N]\n"
	"                            [--simulate RUNS]\n"
	"\n"
	"Design the Bernoulli CUSUM that raises the low-satisfaction alert: it adds\n"
	"log(p1/p0) for each unsatisfied rating and log((1-p1)/(1-p0)) for each\n"
	"satisfied one (never going below 0) and signals at h, where p0 = 1 - T is\n"
	"the unsatisfied rate at target and p1 the rate whose odds are R times p0's.\n"
	"h is the smallest threshold whose average run length at target is at least\n"
	"N ratings (the Markov chain of Brook & Evans, on a grid refined until\n"
	"doubling it moves that run length by under 1 %).  Prints the weights, h,\n"
	"the grid and the run lengths at target, at the odds ratio and at 85 %\n"
	"satisfied (docs/monitoring.md).  With --simulate, also runs the chart itself\n"
	"RUNS times at each of those three rates (seeded, so repeatable) and prints\n"
	"the mean run length with its standard error beside the chain's.  Reads no\n"
	"database.\n"
	"\n"
	"  --target T      share satisfied at target, between 0 and 1 (default 0.95)\n"
	"  --odds-ratio R  rise in the odds of an unsatisfied rating to detect, over 1\n"
	"                  (default 2)\n"
	"  --run-length N  fewest ratings between false alarms at target, on\n"
	"                  average (default 5000)\n"
	"  --simulate RUNS simulated runs per rate, 2 to 10000000 (a run at target\n"
	"                  is about N ratings: 20000 runs of 5000 take a few seconds)\n";

/* optarg as a number, the whole of it; 0, or a usage error naming opt. */
static int parse_number(const char *opt, const char *text, double *out)
{
	char *end;

	*out = strtod(text, &end);
	if (end == text || *end || !isfinite(*out))
		return cli_usage_error("monitor", "%s: '%s' is not a number", opt, text);
	return 0;
}

/* The seed of --simulate: fixed, so that docs/monitoring.md's figures can
 * be had again. */
#define SIMULATION_SEED 19

/* A run length as a whole number of ratings, or the bound past which it is
 * not computed; with runs, and the rate p_unsatisfied, beside the mean of
 * that many simulated runs.  0, or the exit status of a failure. */
static int print_arl(const struct cusum_design *d, const char *label, double arl, double p_unsatisfied,
		     long runs)
{
	double mean, se;

	if (arl == HUGE_VAL)
		printf("%s: more than %.0f", label, CUSUM_ARL_MAX);
	else
		printf("%s: %.0f", label, arl);
	if (runs && arl < 1e7) {
		if (cusum_simulate(d, p_unsatisfied, runs, SIMULATION_SEED, &mean, &se)) {
			putchar('\n');
			fprintf(stderr, "sipas: out of memory\n");
			return 2;
		}
		printf(" (simulated: %.1f ± %.1f in %ld runs)", mean, se, runs);
	}
	putchar('\n');
	return 0;
}

static int design(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "odds-ratio", required_argument, NULL, 'r' },
		{ "run-length", required_argument, NULL, 'n' },
		{ "simulate", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	double target = 0.95, odds = 2, run_length = 5000, runs = 0, finer, lower, lower_finer;
	struct cusum_design d;
	char label[96];
	struct err e;
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_number("--target", optarg, &target))
				return 1;
			break;
		case 'r':
			if (parse_number("--odds-ratio", optarg, &odds))
				return 1;
			break;
		case 'n':
			if (parse_number("--run-length", optarg, &run_length))
				return 1;
			break;
		case 's':
			if (parse_number("--simulate", optarg, &runs))
				return 1;
			if (runs != floor(runs) || runs < 2 || runs > 1e7)
				return cli_usage_error("monitor", "--simulate: '%s' is not a whole number from 2 to 10000000",
						       optarg);
			break;
		case 'h':
			return cli_help(cmd_monitor_usage);
		default:
			return cli_usage_error("monitor", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("monitor", "unexpected argument '%s'", argv[optind]);
	err_clear(&e);
	if (cusum_design_make(target, odds, run_length, &d, &e))
		return cli_fail(&e);
	finer = cusum_arl_at(&d, d.h, 2 * d.grid, d.p0);
	printf("target: %.1f %% satisfied (unsatisfied p0 = %.4f)\n", 100 * d.target, d.p0);
	printf("odds ratio to detect: %g (unsatisfied p1 = %.4f, %.1f %% satisfied)\n", d.odds_ratio, d.p1,
	       100 * (1 - d.p1));
	printf("weight of an unsatisfied rating: %+.4f\n", d.w_unsatisfied);
	printf("weight of a satisfied rating: %+.4f\n", d.w_satisfied);
	printf("threshold h: %.3f\n", d.h);
	printf("grid: cell %.6f (%d cell%s per smaller weight); doubling it moves the run length at target "
	       "by %.2f %%\n", d.cell, d.grid, d.grid == 1 ? "" : "s", 100 * fabs(finer - d.arl_target) / d.arl_target);
	snprintf(label, sizeof(label), "run length at target (%.1f %% satisfied)", 100 * d.target);
	if ((rc = print_arl(&d, label, d.arl_target, d.p0, (long)runs)))
		return rc;
	snprintf(label, sizeof(label), "run length at odds ratio %g (%.1f %% satisfied)", d.odds_ratio,
		 100 * (1 - d.p1));
	if ((rc = print_arl(&d, label, cusum_arl(&d, d.p1), d.p1, (long)runs)))
		return rc;
	if ((rc = print_arl(&d, "run length at 85.0 % satisfied", cusum_arl(&d, 0.15), 0.15, (long)runs)))
		return rc;
	lower = cusum_arl_at(&d, d.h - d.cell, d.grid, d.p0);
	lower_finer = cusum_arl_at(&d, d.h - d.cell, 2 * d.grid, d.p0);
	/* h is the lowest cell where the run length is settled over the minimum */
	assert(!cusum_settled(lower, lower_finer, d.arl_min));
	printf("one cell lower, h %.3f: run length %.0f, %.0f on the grid twice as fine: %s\n", d.h - d.cell,
	       lower, lower_finer, lower < d.arl_min || lower_finer < d.arl_min ? "under the minimum" :
	       "not settled (the edge of a step of the staircase)");
	return 0;
}

int cmd_monitor(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("monitor", "say design");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_help(cmd_monitor_usage);
	if (!strcmp(argv[1], "design"))
		return design(argc - 1, argv + 1);
	return cli_usage_error("monitor", "unknown subcommand '%s'", argv[1]);
}
