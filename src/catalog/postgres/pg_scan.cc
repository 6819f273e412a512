#include "catalog/postgres/pg_scan.h"

#include <string>

namespace reprise::catalog {

Result<void> ScanRows(pqxx::transaction_base& tx, const PgQuery& query,
                      const std::function<Result<bool>(const pqxx::row&)>& visit, size_t page) {
  // One cursor name per transaction is enough: scans never nest.
  Exec(tx, PgQuery{"DECLARE reprise_scan NO SCROLL CURSOR FOR " + query.sql, query.params});
  const std::string fetch = "FETCH " + std::to_string(page) + " FROM reprise_scan";
  bool more = true;
  while (more) {
    const pqxx::result rows = tx.exec(fetch);
    for (const auto& row : rows) {
      auto go_on = visit(row);
      if (!go_on) {
        tx.exec("CLOSE reprise_scan");
        return Fail(std::move(go_on.error()));
      }
      if (!*go_on) {
        more = false;
        break;
      }
    }
    if (rows.size() < page) more = false;
  }
  tx.exec("CLOSE reprise_scan");
  return {};
}

}  // namespace reprise::catalog
