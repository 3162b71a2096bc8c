"""Provincial-scale data set and benchmark runner (issue 15): see bench/README.md."""
