/*
 * ussd_bare: the yardstick of the USSD benchmark. A bare libmicrohttpd
 * responder with the same daemon options as the hotline's http.c (internal
 * polling thread, epoll, a pool of THREADS threads, the same connection
 * limits) that reads each POST body and answers every request with one fixed
 * "CON ..." menu screen: what HTTP and libmicrohttpd alone cost on this
 * machine, without parsing, the engine or the database.
 *
 *   ussd_bare PORT [THREADS]     (THREADS default 2, as http.threads)
 *
 * Runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static const char screen[] = "CON 欢迎使用民政服务热线，请回复数字：\n1低保\n2特困供养（五保）\n3临时救助\n"
			     "4高龄补贴\n5事实无人抚养儿童\n6救助直通车\n7办理进度\n8意见建议\n0人工";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int marker; /* con_cls after the first call: the body is being read */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		*con_cls = &marker;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0; /* read and dropped */
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(sizeof(screen) - 1, (void *)screen, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	struct sigaction sa;
	struct sockaddr_in addr;
	int port = argc > 1 ? atoi(argv[1]) : 0;
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;

	if (port <= 0 || port > 65535 || threads < 1) {
		fprintf(stderr, "usage: ussd_bare PORT [THREADS]\n");
		return 2;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* as http.address = 127.0.0.1 */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
	    NULL, on_request, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)5,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "ussd_bare: cannot listen on port %d\n", port);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr, "ussd_bare: ready on port %d, %u threads\n", port, threads);
	while (!stop)
		pause();
	MHD_stop_daemon(d);
	return 0;
}
