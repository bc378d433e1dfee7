"""Reports over many reviews: aspect groups, statistics, the HTML report."""
