"""A holiday table for 2028 as its YAML file says it (test data), for the calendar and table-loading tests."""

TABLE_2028 = """\
year: 2028
provisional: false
source: 国务院办公厅关于2028年部分节假日安排的通知（test data）
holidays:
  - name: 春节
    from: 2028-01-22
    to: 2028-01-30
    makeup_workdays: [2028-02-05]
"""
