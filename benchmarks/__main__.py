from benchmarks.speed import main

main()
