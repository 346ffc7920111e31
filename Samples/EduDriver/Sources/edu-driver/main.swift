print("edu")
