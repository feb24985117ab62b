# Sourced by the bench/run_*.sh scripts: recorded results name files relative to the repository ($ROOT), not by the
# paths of the machine that measured them.
record_relative_paths() {
  sed -i "s|$ROOT/||g" "$@"
}
