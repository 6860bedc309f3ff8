package grpcbearer_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/accesstoken/bearer"
	grpcbearer "github.com/accesstoken/bearer/adapters/grpc"
	"github.com/accesstoken/bearer/bearertest"
)

// The health service ships with grpc-go, so it stands in for a service of
// your own here.
func Example() {
	authority := bearertest.NewAuthority() // stands in for https://login.example.com
	defer authority.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: authority.Issuer(), Audience: []string{"api"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(grpcbearer.UnaryServerInterceptor(v,
			grpcbearer.Require(healthpb.Health_Check_FullMethodName, bearer.AnyOf("health")),
		)),
		grpc.ChainStreamInterceptor(grpcbearer.StreamServerInterceptor(v)),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Stop()

	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	check := func(token string) {
		ctx := context.Background()
		if token != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
		}
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			s := status.Convert(err)
			fmt.Println(s.Code(), s.Message())
			return
		}
		fmt.Println(resp.GetStatus())
	}
	check("")
	check(authority.Token(bearertest.Payload{"aud": "api", "scope": "read"}))
	check(authority.Token(bearertest.Payload{"aud": "api", "scope": "health"}))
	// Output:
	// Unauthenticated no access token
	// PermissionDenied insufficient scope: health
	// SERVING
}
