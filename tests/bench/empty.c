/* empty.so - a preloaded library that does nothing: what any LD_PRELOAD
 * costs a process (the loader's mapping, relocation and symbol search),
 * the yardstick of the /bin/true case. */
int streamshim_bench_empty;
