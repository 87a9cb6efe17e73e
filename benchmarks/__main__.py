import sys

from benchmarks import browse
from benchmarks.speed import main

main()
if "--accuracy" not in sys.argv:
    print()
    browse.main()
