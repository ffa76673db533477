"""The command line: argument parsing, progress, tables, JSON, the diagram and `doctor`.

It reads its facts from the modules that own them (workers_scan for the inputs, constructs_lib for the stack)
and restates none. `main.py` at the top only calls it.
"""
