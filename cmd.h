/* cmd.h - the subcommands of the equigrid program. Each takes the arguments
 * after its name (argv[0] is the subcommand) and returns the process exit
 * status; these are the I/O glue that may print and exit (STYLE.md rule 7). */
#ifndef EQUIGRID_CMD_H
#define EQUIGRID_CMD_H

int cmd_show(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_qvalues(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_play(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_transfer(int argc, char **argv);

#endif
