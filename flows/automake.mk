# flows/
