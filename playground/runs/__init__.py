"""Qt-free run machinery shared by the window, the command line and the benchmarks: jobs that
drive a trainer on a worker thread, latest-wins slots, the data store, and each lab's stream.
The window wraps them in one QThread (``gui/worker.py``); tests drive them with no thread at all.
"""
