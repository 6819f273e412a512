#include "cli/serve_command.h"

#include <memory>

#include <fmt/format.h>

#include "cli/common.h"
#include "http/api.h"
#include "http/server.h"

namespace reprise::cli {

CLI::App* AddServeCommand(CLI::App& cli, ServeFlags& flags) {
  auto* command = cli.add_subcommand(
      "serve",
      "Serve the HTTP API, signed blob URLs and /metrics, with a worker pool, until stopped");
  command
      ->add_option("--listen", flags.listen,
                   "Address to listen on [config server.listen, default 127.0.0.1:8080]")
      ->type_name("HOST:PORT");
  command->add_flag("--no-workers", flags.no_workers,
                    "Serve HTTP only; run jobs in separate `reprise worker` processes");
  AddWorkerOptions(*command, flags.worker);
  return command;
}

namespace {

// Who a request is (services/tokens_service.h). While the catalog holds an active token,
// every non-public route needs one, on loopback too. With none, a loopback server
// answers every request as an admin (with a warning) and any other address is refused
// here. "Holds a token" is read per request through the service's cache, so a token
// created while the server runs takes effect within 5 s without a restart; a server
// beyond loopback never opens up, even if every token is later revoked.
Result<http::Router::Options> AuthOptions(app::App& app, const std::string& host, int port) {
  const bool loopback = http::IsLoopbackHost(host);
  auto any = app.tokens().AnyActive();
  if (!any) return Fail(any.error());
  if (!*any && !loopback) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("refusing to serve on {}:{} without API tokens (an address beyond "
                            "loopback needs them). Create one first with `reprise tokens create "
                            "--owner ID` (or `--admin`), or listen on 127.0.0.1",
                            host, port));
  }
  if (!*any) {
    app.log()->warn(
        "no API tokens: every request to this loopback server is treated as an admin; "
        "`reprise tokens create` makes the API require tokens");
  }
  http::Router::Options options;
  options.authenticate = [&tokens = app.tokens(), loopback](std::string_view token) {
    return tokens.CallerOf(token, loopback);
  };
  return options;
}

}  // namespace

// The HTTP server and, unless turned off, a worker pool in the same process, until
// SIGTERM/SIGINT: then the pool shuts down gracefully first (no new claims, running jobs
// get the grace period) and the server stops last, so health checks answer throughout.
int RunServe(app::App& app, const ServeFlags& flags, queue::ShutdownSignals& signals) {
  auto address = http::ParseListenAddress(flags.listen.value_or(app.config().server.listen));
  if (!address) return ReportError(address.error());
  auto router_options = AuthOptions(app, address->first, address->second);
  if (!router_options) return ReportError(router_options.error());
  // Outgoing webhooks: workers only write delivery rows; this thread sends them. Started
  // first, so the configured subscriptions exist before the first event they want.
  auto webhooks = app.NewWebhookRunner();
  if (webhooks) {
    if (auto started = (*webhooks)->Start(); !started) webhooks = Fail(started.error());
  }
  if (!webhooks) return ReportError(webhooks.error());
  std::unique_ptr<queue::Worker> worker;
  bool workers = app.config().server.workers && !flags.no_workers;
  if (workers) {
    worker = app.NewWorker(WorkerOptionsFrom(app, flags.worker));
    if (auto started = worker->Start(); !started) return ReportError(started.error());
  }
  http::Router router(std::move(*router_options), app.log());
  auto context = http::MakeApiContext(app);
  if (!context) {
    if (worker) worker->Shutdown();
    return ReportError(context.error());
  }
  http::AddApiRoutes(router, *context);
  http::Server server(router, http::ServerOptions{}, app.log());
  if (auto started = server.Start(address->first, address->second); !started) {
    if (worker) worker->Shutdown();
    return ReportError(started.error());
  }
  // URL imports are downloaded by the server itself, with or without stage workers.
  auto imports = app.NewImportRunner();
  imports->Start();
  std::unique_ptr<backfill::Pump> pump;
  if (workers) {
    pump = app.NewBackfillPump(worker->options().lease_micros);
    pump->SetOnDispatch([&worker] { worker->Wake(); });
    pump->Start();
  }
  app.log()->info("serving on http://{}:{} ({})", address->first, server.port(),
                  workers ? fmt::format("{} worker slot(s)", worker->options().concurrency)
                          : std::string("no workers"));
  if (worker) {
    queue::ServeUntilSignalled(*worker, signals, app.log());
  } else {
    while (signals.Wait(-1) == 0) {
    }
  }
  if (pump) pump->Stop();
  (*webhooks)->Stop();
  server.Stop();
  imports->Stop();  // downloads under way are queued again for the next server
  app.log()->info("server stopped");
  return kExitOk;
}

}  // namespace reprise::cli
