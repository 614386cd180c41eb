#!/usr/bin/env bash
# Remake the sample statements in this folder: DOMAIN.md worked example O1 (mode A).
# Card O1 of 张三 (examples/customers.csv), statement day 5, product STD
# (examples/rules/standard.toml: due 18 days after the statement). RMB 1,000.00 bought
# 2024-03-30; the 04-05 statement's minimum 100.00 paid on the due date 04-23; the 05-05
# statement carries interest 17.85 and closes at 917.85.
# Run from the repository root: bash examples/statements/make_samples.sh
set -euo pipefail
here=examples/statements
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cb() { cardbatch --db "sqlite:///$work/o1.db" "$@"; }

cb db upgrade >/dev/null
cb rules load examples/rules/standard.toml --effective 2024-01-01 --as maker >/dev/null
cb rules approve STD@1 --as checker >/dev/null
cb import customers examples/customers.csv >/dev/null
cb import deposits examples/deposits.csv >/dev/null
printf '%s\n' \
  'account_id,customer_id,card_number,product_code,credit_limit,statement_day,repayment_account_id,autopay_mode,status,opened_on' \
  'O1,C001,6222021000000005,STD,20000.00,5,D001,none,active,2024-03-20' > "$work/accounts.csv"
cb import accounts "$work/accounts.csv" >/dev/null
header='txn_id,account_id,card_number,type,amount,txn_date,posting_date,description'
printf '%s\n' "$header" 'O1-T1,O1,,purchase,1000.00,2024-03-30,2024-03-30,百货商场购物' \
  > "$work/t0330.csv"
printf '%s\n' "$header" 'O1-T2,O1,,payment,100.00,2024-04-23,2024-04-23,柜台还款' \
  > "$work/t0423.csv"

cb date set 2024-03-19 >/dev/null
cb import transactions "$work/t0330.csv" --date 2024-03-30 >/dev/null
cb cycle run --through 2024-04-22 >/dev/null
cb import transactions "$work/t0423.csv" --date 2024-04-23 >/dev/null
cb cycle run --through 2024-05-05 >/dev/null
cb ledger check >/dev/null
for day in 2024-04-05 2024-05-05; do
  cb statement render O1 --date "$day" --format html --out "$here/O1-$day.html"
  cb statement render O1 --date "$day" --format pdf --out "$here/O1-$day.pdf"
done
