package redis_test

import (
	"context"
	"log"
	"os"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/stores/redis"
)

// One Store serves as both stores of a Validator; every replica of the
// API is set up the same way, with the same Redis and Prefix.
func ExampleNew() {
	store, err := redis.New(redis.Options{
		URL:    os.Getenv("REDIS_URL"), // rediss://:password@redis.internal:6379/0
		Prefix: "orders-api",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // after the Validator's Close, deferred below

	v, err := bearer.New(context.Background(), bearer.Config{
		Authority:          "https://login.example.com",
		ClientID:           "orders-api",
		ClientSecret:       os.Getenv("CLIENT_SECRET"),
		RequiredScopes:     bearer.AnyOf("orders"),
		RevocationStore:    store,
		IntrospectionCache: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
}
