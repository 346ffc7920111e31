print("pci-diag")
