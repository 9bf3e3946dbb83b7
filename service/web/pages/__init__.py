"""The pages, one module per group: sign-in, young people, suggestions..."""
