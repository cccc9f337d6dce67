"""好差评: ratings of applications, tasks and cases; rectification of 差评; appeals; statistics."""
