#include "http/api.h"

namespace reprise::http {

void AddApiRoutes(Router& router, ApiContext& context) { AddHealthRoutes(router, context); }

}  // namespace reprise::http
