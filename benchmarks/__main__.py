import sys

from benchmarks import browse, dashboard, insights, rate_limits
from benchmarks.speed import main

main()
if "--accuracy" not in sys.argv:
    print()
    browse.main()
    print()
    dashboard.main()
    print()
    insights.insights()
    print()
    rate_limits.main()
