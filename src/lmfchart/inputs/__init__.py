"""What the user gives: values files, --set flags and the seed chart's layout, merged like Helm."""
