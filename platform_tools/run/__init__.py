"""What every `platform-tools` command shares: exit codes, errors, JSON run logs, per-run
Prometheus metrics (node-exporter textfile or Pushgateway), `--json` output, progress bars and
the database settings of the app.

A command wraps its work in `command_run` (runner.py); it raises the errors of errors.py and
never calls `sys.exit` or prints a traceback itself.
"""
