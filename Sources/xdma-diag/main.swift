print("xdma-diag: being written")
