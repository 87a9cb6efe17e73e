import sys

from benchmarks import browse, dashboard, gaps, insights, rate_limits, replicas
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
    gaps.main()
    print()
    rate_limits.main()
    print()
    replicas.main()
