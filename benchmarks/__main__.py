import sys

from benchmarks import browse, dashboard, insights
from benchmarks.speed import main

main()
if "--accuracy" not in sys.argv:
    print()
    browse.main()
    print()
    dashboard.main()
    print()
    insights.insights()
