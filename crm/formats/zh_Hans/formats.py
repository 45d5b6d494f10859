# Amounts in Chinese business documents are grouped by thousands with a comma (¥380,000.00), not
# printed as one run of digits as Django's zh_Hans formats do. The rest comes from Django's module.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
