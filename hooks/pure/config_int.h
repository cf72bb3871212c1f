/* config_int.h - internals shared by the file grammar's global part
 * (config.c) and its [refusal "name"] sections (config_rules.c). */
#ifndef SS_CONFIG_INT_H
#define SS_CONFIG_INT_H

#include <stdbool.h>

#include "config.h"

/* Trim blanks (space, tab, CR) at both ends of [*a, *b). */
void config_trim(const char **a, const char **b);

/* Split the trimmed line [a, b) at its first '=': the key and the value,
 * both trimmed, the value without one pair of surrounding double quotes.
 * False when there is no '='. */
bool config_split(const char *a, const char *b, const char **ka,
                  const char **kb, const char **va, const char **vb);

/* Where the trimmed line [a, b) ends before its trailing comment: at a
 * '#' that follows a blank, unless inside a value that starts with a
 * double quote (up to its closing quote: the first '"' that ends the line
 * or is followed by blanks and a '#') or inside a section header's quoted
 * name; else b. A '#' inside a word ("gpt#4") is the value's, and so is a
 * ';' anywhere but at the start of a line. (config_comment.c) */
const char *config_strip_comment(const char *a, const char *b);

/* Where the parse stands: which kind of section, and the rule being read. */
enum config_section { CS_GLOBAL, CS_SKIP, CS_REFUSAL };

struct config_rules_state {
  enum config_section section;
  bool broken;        /* the open rule had a bad line: drop it at its end */
  bool settings;      /* the open rule had at least one setting line
                         (a direction line is none: it matches nothing) */
  bool directed;      /* the open rule had a direction line */
  unsigned line;      /* its header's line */
};

/* A line starting with '[': end the open rule, then open a refusal
 * section, or report an unknown section to skip. */
void config_rules_header(struct ss_config *c, struct config_rules_state *st,
                         const char *a, const char *b, const char *where,
                         unsigned line, config_warn_fn warn, void *arg);
/* A setting line inside a refusal section. */
void config_rules_line(struct ss_config *c, struct config_rules_state *st,
                       const char *a, const char *b, const char *where,
                       unsigned line, config_warn_fn warn, void *arg);
/* The end of the text: keep or drop the open rule. */
void config_rules_end(struct ss_config *c, struct config_rules_state *st,
                      const char *where, config_warn_fn warn, void *arg);

#endif
