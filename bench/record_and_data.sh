# Sourced by the bench/run_*.sh scripts that record their table and train or run on Task 3: `parse_record_option
# HELP_LINES "$@"` sets RECORD (1 with --record) or prints the script's header lines HELP_LINES (e.g. 2,16) for
# --help; `require_seqjit_and_task3` checks that $SEQJIT is built and generates $TASK3_DATA when it is missing.
parse_record_option() {
  local help_lines=$1
  shift
  RECORD=0
  for argument in "$@"; do
    case $argument in
      --record) RECORD=1 ;;
      -h | --help) sed -n "${help_lines}p" "${BASH_SOURCE[1]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) echo "error: unknown argument '$argument' (expected --record)" >&2; exit 2 ;;
    esac
  done
}

require_seqjit_and_task3() {
  if [[ ! -x "$SEQJIT" ]]; then
    echo "error: $SEQJIT is missing; build it first (cmake --build $BUILD --target seqjit)" >&2
    exit 1
  fi
  if [[ ! -f "$TASK3_DATA" ]]; then
    echo "== generating Task 3 data: $TASK3_DATA"
    mkdir -p "$(dirname "$TASK3_DATA")"
    "$SEQJIT" generate-data task3 --out "$TASK3_DATA" --seed 0 >/dev/null
  fi
}
